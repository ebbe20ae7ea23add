//! `auditlog query` and `auditlog tail`: matching records from a server or
//! straight from a data directory, as a table, JSON, NDJSON or CSV.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use auditlog_filter::Filter;
use auditlog_model::Record;
use auditlog_query::search::with_time_range;
use auditlog_query::{search, Cursor, Order, SearchRequest};
use auditlog_store::Store;

use crate::client::{encode, Client, DEFAULT_SERVER};
use crate::output::{Style, Table};
use crate::Outcome;

/// `(offset, stored bytes)` pairs.
type Records = Vec<(u64, Vec<u8>)>;

/// How to print records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordFormat {
    /// time, principal, method, resource, status, client IP.
    Table,
    /// A JSON array of `{"offset":N,"record":{…}}`, records as stored.
    Json,
    /// One `{"offset":N,"record":{…}}` per line.
    Ndjson,
    /// The table's columns as CSV.
    Csv,
}

/// Where to read from.
#[derive(Debug, clap::Args)]
pub struct Source {
    /// Server to ask (default: AUDITLOG_SERVER, else http://127.0.0.1:8080).
    #[arg(long, env = "AUDITLOG_SERVER", conflicts_with = "data_dir")]
    pub server: Option<String>,
    /// Read a data directory directly instead (works while a server runs).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The filter (see docs/filter-language.md), e.g. 'method = DeleteConnector AND resource_id = lcc-23orvm'.
    #[arg(default_value = "")]
    filter: String,
    /// Only records at or after this time (RFC 3339, a date, or relative like -1h).
    #[arg(long)]
    from: Option<String>,
    /// Only records before this time.
    #[arg(long)]
    to: Option<String>,
    /// Records to print.
    #[arg(long, short = 'n', default_value_t = 100)]
    limit: usize,
    /// Oldest first instead of newest first.
    #[arg(long)]
    asc: bool,
    /// Continue after a previous page (the cursor it printed).
    #[arg(long)]
    cursor: Option<String>,
    #[arg(long, short = 'o', value_enum, default_value = "table")]
    output: RecordFormat,
    #[command(flatten)]
    source: Source,
}

/// Parse a filter for local use, printing a caret under the mistake.
pub fn parse_filter(src: &str) -> Result<Filter> {
    auditlog_filter::parse(src).map_err(|e| {
        let pad = " ".repeat(e.column.saturating_sub(1));
        anyhow::anyhow!("bad filter: {e}\n  {src}\n  {pad}^\nsee docs/filter-language.md, or `auditlog explain` to check a filter")
    })
}

/// A `--from`/`--to` value in the filter language's time syntax.
pub fn time_param(name: &str, v: Option<&str>) -> Result<Option<i64>> {
    v.map(|s| {
        auditlog_filter::parse_time(s)
            .map_err(|m| anyhow::anyhow!("--{name}: {m}; use RFC 3339, a date, now, or -1h style"))
    })
    .transpose()
}

/// The columns people look at first.
pub fn columns(bytes: &[u8]) -> Vec<String> {
    let Ok(r) = Record::parse(bytes) else {
        return vec![String::new(); 6];
    };
    let p = r.principal();
    let ip = r.client_ips().next().unwrap_or_default().to_owned();
    vec![
        r.time.clone().unwrap_or_default(),
        p.id.or(p.email)
            .or(p.identity)
            .unwrap_or_default()
            .to_owned(),
        r.method_name().unwrap_or_default().to_owned(),
        r.resource_crn().map(|c| c.to_string()).unwrap_or_default(),
        r.status().unwrap_or_default().to_owned(),
        ip,
    ]
}

/// Print records in the chosen format.
pub fn print_records(
    out: &mut dyn Write,
    format: RecordFormat,
    records: &[(u64, Vec<u8>)],
) -> Result<()> {
    match format {
        RecordFormat::Json => {
            out.write_all(b"[")?;
            for (i, (off, b)) in records.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",\n")?;
                }
                write!(out, "{{\"offset\":{off},\"record\":")?;
                out.write_all(b)?;
                out.write_all(b"}")?;
            }
            out.write_all(b"]\n")?;
        }
        RecordFormat::Ndjson => {
            for (off, b) in records {
                write!(out, "{{\"offset\":{off},\"record\":")?;
                out.write_all(b)?;
                out.write_all(b"}\n")?;
            }
        }
        RecordFormat::Table | RecordFormat::Csv => {
            let mut t = Table::new(&[
                "OFFSET",
                "TIME",
                "PRINCIPAL",
                "METHOD",
                "RESOURCE",
                "STATUS",
                "CLIENT IP",
            ]);
            for (off, b) in records {
                let mut row = vec![off.to_string()];
                row.extend(columns(b));
                t.highlight.push(row.get(5).is_some_and(|s| s == "FAILURE"));
                t.push(row);
            }
            if format == RecordFormat::Csv {
                t.write_csv(out)?;
            } else {
                let width = Style::stdout().is_on().then_some(90);
                t.write_table(out, width)?;
            }
        }
    }
    Ok(())
}

/// A `/v1/events` JSON page, with each record's bytes exactly as served.
#[derive(serde::Deserialize)]
struct ServerPage<'a> {
    #[serde(borrow)]
    records: Vec<ServerEntry<'a>>,
    next_cursor: Option<String>,
    snapshot_end: u64,
}

#[derive(serde::Deserialize)]
struct ServerEntry<'a> {
    offset: u64,
    #[serde(borrow)]
    record: &'a serde_json::value::RawValue,
}

/// Pages from the server until `limit` records or the end: (records, next cursor, snapshot end).
fn server_pages(
    client: &Client,
    base_path: &str,
    limit: usize,
    mut cursor: Option<String>,
) -> Result<(Records, Option<String>, u64)> {
    let mut out = Vec::new();
    loop {
        let want = (limit - out.len()).min(10_000);
        let mut path = format!("{base_path}&limit={want}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", encode(c)));
        }
        let r = client.get_ok(&path)?;
        let page: ServerPage<'_> =
            serde_json::from_slice(&r.body).context("reading the server's answer")?;
        let end = page.snapshot_end;
        out.extend(
            page.records
                .iter()
                .map(|e| (e.offset, e.record.get().as_bytes().to_vec())),
        );
        cursor = page.next_cursor;
        if cursor.is_none() || out.len() >= limit {
            return Ok((out, cursor, end));
        }
    }
}

pub fn run_query(a: QueryArgs) -> Result<Outcome> {
    let order = if a.asc { Order::Asc } else { Order::Desc };
    let (records, next) = match &a.source.data_dir {
        Some(dir) => {
            let filter = with_time_range(
                parse_filter(&a.filter)?,
                time_param("from", a.from.as_deref())?,
                time_param("to", a.to.as_deref())?,
            );
            let cursor = a.cursor.as_deref().map(str::parse::<Cursor>).transpose()?;
            let store = open(dir)?;
            let page = search(
                &store,
                &SearchRequest {
                    filter,
                    order,
                    limit: a.limit.max(1),
                    cursor,
                    from_offset: 0,
                },
            )?;
            (page.records, page.next_cursor.map(|c| c.to_string()))
        }
        None => {
            let client = Client::new(a.source.server.as_deref().unwrap_or(DEFAULT_SERVER));
            let mut path = format!(
                "/v1/events?filter={}&order={}",
                encode(&a.filter),
                if a.asc { "asc" } else { "desc" }
            );
            for (k, v) in [("from", &a.from), ("to", &a.to)] {
                if let Some(v) = v {
                    path.push_str(&format!("&{k}={}", encode(v)));
                }
            }
            let (recs, next, _) = server_pages(&client, &path, a.limit.max(1), a.cursor.clone())?;
            (recs, next)
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    print_records(&mut out, a.output, &records)?;
    let err = Style::stderr();
    match next {
        Some(c) => eprintln!(
            "{}",
            err.dim(&format!(
                "{} records shown; more match: add --cursor {c}",
                records.len()
            ))
        ),
        None if a.output == RecordFormat::Table => {
            eprintln!("{}", err.dim(&format!("{} records", records.len())))
        }
        None => {}
    }
    Ok(if records.is_empty() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// Total bytes of the log segments: grows with every commit.
fn log_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir.join("log"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn open(dir: &Path) -> Result<Store> {
    Store::open_read_only(dir).with_context(|| format!("opening data directory {}", dir.display()))
}

#[derive(Debug, clap::Args)]
pub struct TailArgs {
    /// The filter; empty for every record.
    #[arg(default_value = "")]
    filter: String,
    /// Keep printing records as they arrive.
    #[arg(long, short = 'f')]
    follow: bool,
    /// Without --follow: how many of the newest matches to print. With it:
    /// how many to print before following (0 = only new ones).
    #[arg(long, short = 'n', default_value_t = 10)]
    lines: usize,
    /// Start at this offset instead (resume a tail exactly).
    #[arg(long)]
    from_offset: Option<u64>,
    #[arg(long, short = 'o', value_enum, default_value = "table")]
    output: RecordFormat,
    #[command(flatten)]
    source: Source,
}

/// The newest `a.lines` matches, and where the log ended when they were
/// read (a follow starts there). With `-n 0` no record, but still the end:
/// "only new ones" must not start at offset 0.
fn last_matches(a: &TailArgs) -> Result<(Records, u64)> {
    let limit = a.lines.max(1);
    let (mut recs, end) = match &a.source.data_dir {
        Some(dir) => {
            let store = open(dir)?;
            let page = search(
                &store,
                &SearchRequest {
                    filter: parse_filter(&a.filter)?,
                    order: Order::Desc,
                    limit,
                    cursor: None,
                    from_offset: 0,
                },
            )?;
            (page.records, page.end)
        }
        None => {
            let client = Client::new(a.source.server.as_deref().unwrap_or(DEFAULT_SERVER));
            let (recs, _, end) = server_pages(
                &client,
                &format!("/v1/events?filter={}&order=desc", encode(&a.filter)),
                limit,
                None,
            )?;
            (recs, end)
        }
    };
    recs.truncate(a.lines);
    recs.reverse();
    Ok((recs, end))
}

pub fn run_tail(a: TailArgs) -> Result<Outcome> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (recs, end) = match a.from_offset {
        Some(o) => (Vec::new(), o),
        None => last_matches(&a)?,
    };
    let table = a.output == RecordFormat::Table;
    let print = |out: &mut dyn Write, recs: &[(u64, Vec<u8>)]| -> Result<()> {
        // Each batch is printed on its own; a table header per batch would
        // be noise, so follow mode prints tables as NDJSON-like rows.
        print_records(
            out,
            if table && a.follow {
                RecordFormat::Table
            } else {
                a.output
            },
            recs,
        )?;
        out.flush()?;
        Ok(())
    };
    print(&mut out, &recs)?;
    if !a.follow {
        return Ok(Outcome::Ok);
    }
    let mut from = if a.from_offset.is_some() {
        end
    } else {
        end.max(recs.last().map_or(0, |r| r.0 + 1))
    };
    match &a.source.data_dir {
        Some(dir) => {
            let filter = parse_filter(&a.filter)?;
            let mut seen_size = None;
            loop {
                // A read-only store is a snapshot; reopening picks up what
                // the server has committed since. Reopening re-indexes the
                // unsealed tail, so do it only when the log has grown.
                let size = log_size(dir);
                if seen_size == Some(size) {
                    std::thread::sleep(Duration::from_millis(500));
                    continue;
                }
                seen_size = Some(size);
                let store = open(dir)?;
                let mut cursor = None;
                loop {
                    let page = search(
                        &store,
                        &SearchRequest {
                            filter: filter.clone(),
                            order: Order::Asc,
                            limit: 1000,
                            cursor,
                            from_offset: from,
                        },
                    )?;
                    print(&mut out, &page.records)?;
                    match page.next_cursor {
                        Some(c) => cursor = Some(c),
                        None => {
                            from = from.max(page.end);
                            break;
                        }
                    }
                }
                drop(store);
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        None => {
            let base = a
                .source
                .server
                .as_deref()
                .unwrap_or(DEFAULT_SERVER)
                .trim_end_matches('/')
                .to_owned();
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            // The last event's id as the server sent it (an offset, or in
            // Kafka mode `OFFSET.SOURCE.ID`, valid on any node), sent back
            // as Last-Event-ID on reconnect.
            let mut last: Option<String> = from.checked_sub(1).map(|o| o.to_string());
            loop {
                let url = format!(
                    "{base}/v1/tail?filter={}&from_offset={from}",
                    encode(&a.filter)
                );
                let mut req = agent.get(&url);
                if let Some(l) = &last {
                    req = req.header("Last-Event-ID", l.as_str());
                }
                match req.call() {
                    Ok(mut r) if r.status() == 200 => {
                        let reader = BufReader::new(r.body_mut().as_reader());
                        let mut id: Option<String> = None;
                        for line in reader.lines() {
                            let Ok(line) = line else { break };
                            if let Some(v) = line.strip_prefix("id: ") {
                                id = Some(v.trim().to_owned());
                            } else if let Some(d) = line.strip_prefix("data: ") {
                                let Some(i) = id.take() else { continue };
                                // The offset of the node that answered, for display.
                                let off = i.split('.').next().and_then(|o| o.parse::<u64>().ok());
                                if let Some(off) = off {
                                    print(&mut out, &[(off, d.as_bytes().to_vec())])?;
                                    last = Some(i);
                                }
                            }
                        }
                    }
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let mut r = r;
                        let body = r.body_mut().read_to_string().unwrap_or_default();
                        bail!("the server refused the tail ({status}): {}", body.trim());
                    }
                    Err(e) => eprintln!(
                        "{}",
                        Style::stderr().yellow(&format!("tail: {e}; reconnecting…"))
                    ),
                }
                // Reconnect after a dropped stream, resuming after the last id.
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}
