//! `auditlog crn`: parse CRNs and test scope containment.

use anyhow::Result;
use auditlog_model::Crn;
use serde::Serialize;

use crate::output::{write_json, Format, Style, Table};
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Parse CRNs and show their parts.
    Parse {
        /// One or more CRNs.
        #[arg(required = true)]
        crns: Vec<String>,
        #[arg(long, short, value_enum, default_value_t = Format::Table)]
        output: Format,
    },
    /// Exit 0 if CRN lies within SCOPE (an organization contains its
    /// environments, which contain their clusters), 1 if not.
    Contains {
        /// The enclosing CRN, e.g. crn://confluent.cloud/organization=…/environment=env-abc123
        scope: String,
        /// The CRN to test.
        crn: String,
    },
}

#[derive(Debug, Serialize)]
struct Parsed<'a> {
    input: &'a str,
    canonical: String,
    authority: &'a str,
    organization: Option<&'a str>,
    environment: Option<&'a str>,
    resource: Option<String>,
    segments: Vec<Seg<'a>>,
}

#[derive(Debug, Serialize)]
struct Seg<'a> {
    key: &'a str,
    value: &'a str,
}

/// Print a parse error with a caret under the offending byte.
fn explain(input: &str, e: &auditlog_model::CrnError) {
    let style = Style::stderr();
    eprintln!("{} {e}", style.red("error:"));
    eprintln!("  {input}");
    let col = input.get(..e.offset).map_or(0, |s| s.chars().count());
    eprintln!("  {}{}", " ".repeat(col), style.red("^"));
}

fn parse(s: &str) -> Result<Crn> {
    Crn::parse(s).map_err(|e| {
        explain(s, &e);
        anyhow::anyhow!(
            "{s:?} is not a CRN; expected crn://AUTHORITY/key=value/… (see docs/crn.md)"
        )
    })
}

pub fn run(args: Args) -> Result<Outcome> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.command {
        Sub::Parse { crns, output } => {
            let mut parsed = Vec::new();
            let mut bad = 0;
            for s in &crns {
                match Crn::parse(s) {
                    Ok(c) => parsed.push((s.as_str(), c)),
                    Err(e) => {
                        explain(s, &e);
                        bad += 1;
                    }
                }
            }
            let views: Vec<Parsed<'_>> = parsed
                .iter()
                .map(|(s, c)| Parsed {
                    input: s,
                    canonical: c.to_string(),
                    authority: c.authority(),
                    organization: c.organization(),
                    environment: c.environment(),
                    resource: c.leaf().map(|l| format!("{}={}", l.key, l.value)),
                    segments: c
                        .segments()
                        .map(|s| Seg {
                            key: s.key,
                            value: s.value,
                        })
                        .collect(),
                })
                .collect();
            match output {
                Format::Json => write_json(&mut out, &views)?,
                f => {
                    let mut t =
                        Table::new(&["CRN", "ORGANIZATION", "ENVIRONMENT", "RESOURCE", "DEPTH"]);
                    for v in &views {
                        t.push(vec![
                            v.canonical.clone(),
                            v.organization.unwrap_or("-").into(),
                            v.environment.unwrap_or("-").into(),
                            v.resource.clone().unwrap_or_else(|| "-".into()),
                            v.segments.len().to_string(),
                        ]);
                    }
                    if f == Format::Csv {
                        t.write_csv(&mut out)?;
                    } else {
                        t.write_table(&mut out, None)?;
                    }
                }
            }
            Ok(if bad > 0 {
                Outcome::Findings
            } else {
                Outcome::Ok
            })
        }
        Sub::Contains { scope, crn } => {
            let (s, c) = (parse(&scope)?, parse(&crn)?);
            if s.contains(&c) {
                writeln!(out, "yes: {c} lies within {s}")?;
                Ok(Outcome::Ok)
            } else {
                writeln!(out, "no: {c} does not lie within {s}")?;
                Ok(Outcome::Findings)
            }
        }
    }
}

use std::io::Write;
