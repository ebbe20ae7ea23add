//! `auditlog catalog`: list the event catalog.

use anyhow::Result;
use auditlog_catalog::Catalog;

use crate::output::{write_json, Format, Table};
use crate::Outcome;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Add your own services with --catalog FILE; the file has the shape of \
crates/catalog/data/confluent-cloud.toml (version = 1, then [[event_type]], [[resource_type]], \
[[method]] and [[category]] tables)."
)]
pub struct Args {
    /// What to list.
    #[arg(value_enum, default_value_t = View::Methods)]
    view: View,
    /// Only entries of this event type, e.g. io.confluent.cloud/request.
    #[arg(long, value_name = "TYPE")]
    event_type: Option<String>,
    /// Only entries of this resource type, e.g. CONNECTOR.
    #[arg(long, value_name = "TYPE")]
    resource_type: Option<String>,
    /// Only this method; aliases resolve (ListWorkspace finds ListWorkspaces).
    #[arg(long, value_name = "NAME")]
    method: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    output: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum View {
    Methods,
    EventTypes,
    Categories,
    ResourceTypes,
}

pub fn run(args: Args, catalog: &Catalog) -> Result<Outcome> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let et = args.event_type.as_deref();
    let rt = args.resource_type.as_deref();
    let wide = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        Some(72)
    } else {
        None
    };
    let resolved = match args.method.as_deref() {
        Some(name) => match catalog.method(name) {
            Some(m) => Some(m.method.name.as_str()),
            None => anyhow::bail!(
                "method {name:?} is not in the catalog{}",
                auditlog_model::suggest::nearest(
                    name,
                    catalog.methods().iter().map(|m| m.name.as_str())
                )
                .map(|n| format!("; did you mean {n:?}?"))
                .unwrap_or_default()
            ),
        },
        None => None,
    };
    match args.view {
        View::Methods => {
            let rows: Vec<_> = catalog
                .methods()
                .iter()
                .filter(|m| et.is_none_or(|t| m.event_type == t))
                .filter(|m| rt.is_none_or(|t| m.resource_type == t))
                .filter(|m| resolved.is_none_or(|n| m.name == n))
                .collect();
            if rows.is_empty() {
                anyhow::bail!(
                    "no method matches; `auditlog catalog resource-types` lists the resource types"
                );
            }
            match args.output {
                Format::Json => write_json(&mut out, &rows)?,
                f => {
                    let mut t = Table::new(&[
                        "METHOD",
                        "RESOURCE TYPE",
                        "ACCESS",
                        "EVENT TYPE",
                        "ALIASES",
                        "DESCRIPTION",
                    ]);
                    for m in rows {
                        t.push(vec![
                            m.name.clone(),
                            m.resource_type.clone(),
                            m.access_type.as_str().into(),
                            m.event_type.clone(),
                            m.aliases.join(" "),
                            m.description.clone(),
                        ]);
                    }
                    emit(&t, f, &mut out, wide)?;
                }
            }
        }
        View::EventTypes => {
            let rows: Vec<_> = catalog
                .event_types()
                .iter()
                .filter(|e| et.is_none_or(|t| e.name == t))
                .collect();
            match args.output {
                Format::Json => write_json(&mut out, &rows)?,
                f => {
                    let mut t = Table::new(&["EVENT TYPE", "SERVICE", "DESCRIPTION"]);
                    for e in rows {
                        t.push(vec![
                            e.name.clone(),
                            e.service.clone(),
                            e.description.clone(),
                        ]);
                    }
                    emit(&t, f, &mut out, wide)?;
                }
            }
        }
        View::Categories => {
            let rows: Vec<_> = catalog
                .categories()
                .iter()
                .filter(|c| et.is_none_or(|t| c.event_type == t))
                .filter(|c| rt.is_none_or(|t| c.resource_types.iter().any(|r| r == t)))
                .collect();
            match args.output {
                Format::Json => write_json(&mut out, &rows)?,
                f => {
                    let mut t = Table::new(&[
                        "GROUP",
                        "CATEGORY",
                        "EVENT TYPE",
                        "RESOURCE TYPES",
                        "DESCRIPTION",
                    ]);
                    for c in rows {
                        let types = if c.resource_types.is_empty() {
                            "n/a".into()
                        } else {
                            c.resource_types.join(", ")
                        };
                        t.push(vec![
                            c.group.clone(),
                            c.name.clone(),
                            c.event_type.clone(),
                            types,
                            c.description.clone(),
                        ]);
                    }
                    emit(&t, f, &mut out, wide)?;
                }
            }
        }
        View::ResourceTypes => {
            let rows: Vec<_> = catalog
                .resource_types()
                .iter()
                .filter(|r| rt.is_none_or(|t| r.name == t))
                .collect();
            match args.output {
                Format::Json => write_json(&mut out, &rows)?,
                f => {
                    let mut t =
                        Table::new(&["RESOURCE TYPE", "CRN KEY", "SCOPE", "IDS", "DESCRIPTION"]);
                    for r in rows {
                        t.push(vec![
                            r.name.clone(),
                            r.crn_key.clone().unwrap_or_default(),
                            r.scope.join(" > "),
                            r.id_shape(),
                            r.description.clone(),
                        ]);
                    }
                    emit(&t, f, &mut out, wide)?;
                }
            }
        }
    }
    Ok(Outcome::Ok)
}

fn emit(t: &Table, f: Format, out: &mut dyn std::io::Write, wide: Option<usize>) -> Result<()> {
    match f {
        Format::Csv => t.write_csv(out)?,
        _ => t.write_table(out, wide)?,
    }
    Ok(())
}
