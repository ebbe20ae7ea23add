//! `auditlog convert`: rewrite records in one wire form.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use auditlog_model::json::{to_canonical, to_pretty};
use auditlog_model::record::{Form, MemberIssue, Record};

use crate::output::Style;
use crate::{input, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories; `-` or nothing reads stdin.
    paths: Vec<PathBuf>,
    /// The wire form to write.
    #[arg(long, value_enum)]
    to: Target,
    /// Indent each record instead of writing one record per line (NDJSON).
    #[arg(long)]
    pretty: bool,
    /// Write here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Target {
    /// `serviceName`, `cloudResources[].resource.resourceId`, …
    Camel,
    /// `service_name`, `cloud_resources[].resource.resource_id`, … (AuditLog.v2)
    Snake,
}

pub fn run(args: Args) -> Result<Outcome> {
    let form = match args.to {
        Target::Camel => Form::Camel,
        Target::Snake => Form::Snake,
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let style = Style::stderr();
    let (mut converted, mut failed) = (0usize, 0usize);
    for path in input::expand(&args.paths)? {
        let origin = path.display().to_string();
        let bytes = input::read_bytes(&path)?;
        for found in input::records(&origin, &bytes) {
            let at = format!("{}:{} (record {})", found.origin, found.line, found.index);
            let record = match found.value {
                Err(e) => Err(format!("not valid JSON: {e}")),
                Ok(v) => Record::from_json_value(v)
                    .map_err(|t| format!("a record must be a JSON object, found {t}")),
            };
            let record = record.and_then(|r| {
                // Two spellings of one member would collide once both are
                // written in the same form; refuse rather than drop one.
                match r.member_issues().into_iter().find(|i| matches!(i, MemberIssue::ConflictingSpelling { .. })) {
                    Some(MemberIssue::ConflictingSpelling { path, used }) => Err(format!(
                        "{path} and {used:?} are two spellings of one member; converting would lose one. Remove one and retry"
                    )),
                    _ => Ok(r),
                }
            });
            match record {
                Ok(r) => {
                    let v = r.to_json_value(form);
                    if args.pretty {
                        writeln!(out, "{}", to_pretty(&v))?;
                    } else {
                        out.write_all(&to_canonical(&v))?;
                        out.write_all(b"\n")?;
                    }
                    converted += 1;
                }
                Err(msg) => {
                    eprintln!("{} {at}: {msg}", style.red("error:"));
                    failed += 1;
                }
            }
        }
    }
    out.flush()?;
    if failed > 0 {
        eprintln!("converted {converted} record(s); {failed} could not be converted (see above)");
        return Ok(Outcome::Findings);
    }
    Ok(Outcome::Ok)
}
