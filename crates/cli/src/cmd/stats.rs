//! `auditlog stats`: counts by a field with a terminal bar chart, top-N,
//! failure rates and a time histogram, from a server or a data directory.

use std::io::Write;

use anyhow::{Context, Result};
use auditlog_query::search::with_time_range;
use auditlog_query::stats::{group_field, parse_interval};
use auditlog_query::{stats, StatsRequest};
use serde_json::Value;

use crate::client::{encode, Client, DEFAULT_SERVER};
use crate::cmd::query::{parse_filter, time_param, Source};
use crate::output::{write_json, Format, Style, Table};
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The filter; empty for every record.
    #[arg(default_value = "")]
    filter: String,
    /// Count per value of: type, service, method, principal, organization,
    /// environment, resource_type, status, access_type.
    #[arg(long, short = 'g')]
    group_by: Option<String>,
    /// Also a time histogram with buckets this wide (30s, 5m, 1h, 1d).
    #[arg(long)]
    interval: Option<String>,
    /// Only the N largest groups.
    #[arg(long)]
    top: Option<usize>,
    /// Count failures per group and show the failure rate.
    #[arg(long)]
    failures: bool,
    #[arg(long)]
    from: Option<String>,
    #[arg(long)]
    to: Option<String>,
    #[arg(long, short = 'o', value_enum, default_value = "table")]
    output: Format,
    #[command(flatten)]
    source: Source,
}

/// The answer in the API's JSON shape, from wherever it came.
fn answer(a: &Args) -> Result<Value> {
    match &a.source.data_dir {
        Some(dir) => {
            let filter = with_time_range(
                parse_filter(&a.filter)?,
                time_param("from", a.from.as_deref())?,
                time_param("to", a.to.as_deref())?,
            );
            let group_by = a.group_by.as_deref().map(group_field).transpose()?;
            let interval = a.interval.as_deref().map(parse_interval).transpose()?;
            let store = auditlog_store::Store::open_read_only(dir)
                .with_context(|| format!("opening {}", dir.display()))?;
            let r = stats(
                &store,
                &StatsRequest {
                    filter,
                    group_by,
                    interval,
                    top: a.top,
                    failures: a.failures,
                },
            )?;
            Ok(auditlog_server::query::stats_json(
                &r,
                group_by,
                a.interval.as_deref(),
            ))
        }
        None => {
            let client = Client::new(a.source.server.as_deref().unwrap_or(DEFAULT_SERVER));
            let mut path = format!("/v1/stats?filter={}", encode(&a.filter));
            for (k, v) in [
                ("group_by", &a.group_by),
                ("interval", &a.interval),
                ("from", &a.from),
                ("to", &a.to),
            ] {
                if let Some(v) = v {
                    path.push_str(&format!("&{k}={}", encode(v)));
                }
            }
            if let Some(t) = a.top {
                path.push_str(&format!("&top={t}"));
            }
            if a.failures {
                path.push_str("&failures=true");
            }
            let r = client.get_ok(&path)?;
            serde_json::from_slice(&r.body).context("reading the server's answer")
        }
    }
}

fn bar(count: u64, max: u64, width: usize) -> String {
    if max == 0 {
        return String::new();
    }
    // Eighth blocks give a smooth bar in a few columns.
    let eighths = (count as f64 / max as f64 * (width * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push(['▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8 - 1]);
    }
    s
}

pub fn run(a: Args) -> Result<Outcome> {
    let v = answer(&a)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if a.output == Format::Json {
        write_json(&mut out, &v)?;
        return Ok(Outcome::Ok);
    }
    let total = v["total"].as_u64().unwrap_or(0);
    let empty = Vec::new();
    let groups = v["groups"].as_array().unwrap_or(&empty);
    let hist = v["histogram"].as_array().unwrap_or(&empty);
    let key = |g: &Value| {
        g["key"]
            .as_str()
            .map_or_else(|| "(none)".to_owned(), str::to_owned)
    };
    if a.output == Format::Csv {
        let mut t = Table::new(&["key", "count", "failures", "failure_rate"]);
        for g in groups {
            t.push(vec![
                key(g),
                g["count"].to_string(),
                g.get("failures").map(Value::to_string).unwrap_or_default(),
                g.get("failure_rate")
                    .map(Value::to_string)
                    .unwrap_or_default(),
            ]);
        }
        for h in hist {
            t.push(vec![
                h["start"].as_str().unwrap_or("").to_owned(),
                h["count"].to_string(),
                String::new(),
                String::new(),
            ]);
        }
        t.write_csv(&mut out)?;
        return Ok(Outcome::Ok);
    }
    let style = Style::stdout();
    writeln!(out, "{} matching records", style.bold(&total.to_string()))?;
    if !groups.is_empty() {
        let max = groups
            .iter()
            .filter_map(|g| g["count"].as_u64())
            .max()
            .unwrap_or(0);
        let mut t = Table::new(if a.failures {
            &["KEY", "COUNT", "FAILED", "RATE", ""]
        } else {
            &["KEY", "COUNT", "SHARE", ""]
        });
        for g in groups {
            let c = g["count"].as_u64().unwrap_or(0);
            let mut row = vec![key(g), c.to_string()];
            if a.failures {
                row.push(g["failures"].to_string());
                row.push(format!(
                    "{:.1}%",
                    g["failure_rate"].as_f64().unwrap_or(0.0) * 100.0
                ));
                t.highlight
                    .push(g["failure_rate"].as_f64().unwrap_or(0.0) >= 0.5);
            } else {
                row.push(format!(
                    "{:.1}%",
                    if total == 0 {
                        0.0
                    } else {
                        c as f64 * 100.0 / total as f64
                    }
                ));
            }
            row.push(bar(c, max, 30));
            t.push(row);
        }
        writeln!(out)?;
        t.write_table(&mut out, None)?;
        let shown = groups.len() as u64;
        if v["group_count"].as_u64().unwrap_or(shown) > shown {
            writeln!(
                out,
                "{}",
                style.dim(&format!("({} of {} groups shown)", shown, v["group_count"]))
            )?;
        }
    }
    if !hist.is_empty() {
        let max = hist
            .iter()
            .filter_map(|h| h["count"].as_u64())
            .max()
            .unwrap_or(0);
        let mut t = Table::new(&["BUCKET START", "COUNT", ""]);
        for h in hist {
            let c = h["count"].as_u64().unwrap_or(0);
            t.push(vec![
                h["start"].as_str().unwrap_or("").to_owned(),
                c.to_string(),
                bar(c, max, 40),
            ]);
        }
        writeln!(out)?;
        t.write_table(&mut out, None)?;
    }
    Ok(Outcome::Ok)
}
