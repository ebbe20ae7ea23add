//! `auditlog lint`: validate records and report findings with JSON paths.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use auditlog_catalog::Catalog;
use auditlog_model::record::from_value;
use auditlog_validate::{Code, Diagnostic, DuplicateTracker, Severity, Validator};
use serde::Serialize;

use crate::output::Style;
use crate::{input, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories of JSON, JSON arrays or NDJSON; `-` or nothing reads stdin.
    paths: Vec<PathBuf>,
    /// `text` for people, `json` for programs.
    #[arg(long, short, value_enum, default_value_t = LintFormat::Text)]
    output: LintFormat,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    strict: bool,
    /// Hide findings below this severity.
    #[arg(long, value_enum, default_value_t = MinSeverity::Info)]
    min_severity: MinSeverity,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum MinSeverity {
    Info,
    Warning,
    Error,
}

/// Where a record came from.
#[derive(Debug)]
struct Located {
    origin: String,
    index: usize,
    line: usize,
}

#[derive(Debug, Serialize)]
struct Finding<'a> {
    file: &'a str,
    record: usize,
    line: usize,
    severity: &'static str,
    code: &'static str,
    path: &'a str,
    message: &'a str,
}

pub fn run(args: Args, catalog: &Catalog) -> Result<Outcome> {
    let validator = Validator::new(catalog);
    let min = match args.min_severity {
        MinSeverity::Info => Severity::Info,
        MinSeverity::Warning => Severity::Warning,
        MinSeverity::Error => Severity::Error,
    };
    let mut tracker = DuplicateTracker::new();
    let mut all: Vec<(Located, Vec<Diagnostic>)> = Vec::new();
    let mut files = 0;
    for path in input::expand(&args.paths)? {
        files += 1;
        let origin = path.display().to_string();
        let bytes = input::read_bytes(&path)?;
        for input::Found {
            origin,
            index,
            line,
            value,
        } in input::records(&origin, &bytes)
        {
            let diags = match value.map(from_value) {
                Err(e) => vec![Diagnostic::new(
                    Code::InvalidJson,
                    e.path.clone(),
                    e.to_string(),
                )],
                Ok(Err(e)) => vec![Diagnostic::new(Code::NotARecord, "$", e.to_string())],
                Ok(Ok(parsed)) => {
                    let r = &parsed.record;
                    let mut d = validator.validate(r);
                    let at = format!("{origin} record {index}");
                    d.extend(tracker.observe(
                        r.source.as_deref(),
                        r.id.as_deref(),
                        &parsed.canonical,
                        &at,
                    ));
                    d
                }
            };
            all.push((
                Located {
                    origin,
                    index,
                    line,
                },
                diags,
            ));
        }
    }

    let (mut infos, mut warnings, mut errors) = (0, 0, 0);
    for d in all.iter().flat_map(|(_, ds)| ds) {
        match d.severity {
            Severity::Info => infos += 1,
            Severity::Warning => warnings += 1,
            Severity::Error => errors += 1,
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.output {
        LintFormat::Json => {
            let findings: Vec<Finding<'_>> = all
                .iter()
                .flat_map(|(f, ds)| {
                    ds.iter()
                        .filter(|d| d.severity >= min)
                        .map(move |d| Finding {
                            file: &f.origin,
                            record: f.index,
                            line: f.line,
                            severity: d.severity.as_str(),
                            code: d.code.as_str(),
                            path: &d.path,
                            message: &d.message,
                        })
                })
                .collect();
            crate::output::write_json(&mut out, &findings)?;
        }
        LintFormat::Text => {
            let style = Style::stdout();
            for (f, ds) in &all {
                for d in ds.iter().filter(|d| d.severity >= min) {
                    let sev = match d.severity {
                        Severity::Error => style.red("error"),
                        Severity::Warning => style.yellow("warning"),
                        Severity::Info => style.cyan("info"),
                    };
                    writeln!(
                        out,
                        "{}: {sev}[{}] {}: {}",
                        style.bold(&format!("{}:{}", f.origin, f.line)),
                        d.code.as_str(),
                        style.dim(&d.path),
                        d.message
                    )?;
                }
            }
        }
    }
    out.flush()?;
    let records = all.len();
    eprintln!(
        "{records} record{} in {files} input{}: {errors} error{}, {warnings} warning{}, {infos} info",
        plural(records),
        plural(files),
        plural(errors),
        plural(warnings)
    );
    let failed = errors > 0 || (args.strict && warnings > 0);
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
