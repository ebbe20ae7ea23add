//! Ingest throughput: `auditlog serve` (release build, fsync on) receives
//! generated events over HTTP, in batches from several connections. The floor
//! is measured in the same run: `serde_json` parsing of the same bytes plus a
//! bare SQLite insert of the same rows in one transaction, with no HTTP.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use auditlog_gen::{Config, Generator};

use crate::stats::time;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Events to send.
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Events per request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// The `auditlog` binary (default: next to this one).
    #[arg(long)]
    auditlog: Option<PathBuf>,
    /// Where to put the server's data directory (default: a temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Skip the floor measurement.
    #[arg(long)]
    no_floor: bool,
    /// Extra arguments for `auditlog serve`.
    #[arg(long, allow_hyphen_values = true)]
    serve_arg: Vec<String>,
}

/// Generated events are cached next to the build, keyed by count and seed.
pub(crate) fn workload(n: usize) -> Result<Vec<Vec<u8>>> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("bench-data");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("ingest-{n}-seed1.ndjson"));
    if !path.exists() {
        eprintln!("generating {n} events into {}", path.display());
        let tmp = path.with_extension("tmp");
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for r in Generator::new(Config {
            seed: 1,
            ..Config::default()
        })
        .take(n)
        {
            w.write_all(&r)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        std::fs::rename(&tmp, &path)?;
    }
    let r = std::io::BufReader::new(std::fs::File::open(&path)?);
    Ok(r.split(b'\n').collect::<Result<_, _>>()?)
}

pub struct Server {
    child: Child,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A graceful stop, so the server flushes and reports; SIGKILL if it hangs.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) the process has used.
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.rsplit(')').next()?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU seconds per thread name (threads of a pool share a name).
pub(crate) fn cpu_by_thread(pid: u32) -> Vec<(String, f64)> {
    let mut by: std::collections::BTreeMap<String, f64> = Default::default();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    for t in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        let name = stat
            .split('(')
            .nth(1)
            .and_then(|r| r.split(')').next())
            .unwrap_or("?")
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-')
            .to_owned();
        let Some(rest) = stat.rsplit(')').next() else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = f.get(11).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0)
            + f.get(12).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
        *by.entry(name).or_default() += ticks / 100.0;
    }
    by.into_iter().collect()
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Start `auditlog serve` and wait until it is ready; stopped when dropped.
pub fn start_server(bin: &Path, dir: &Path, port: u16, extra: &[String]) -> Result<Server> {
    let child = Command::new(bin)
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args([
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--log",
            "warn",
            "--max-batch-records",
            "100000",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let s = Server { child };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let started = Instant::now();
    while agent
        .get(&format!("http://127.0.0.1:{port}/readyz"))
        .call()
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("server did not become ready");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(s)
}

/// The `auditlog` binary: the one given, else the one next to this binary.
pub fn auditlog_bin(given: Option<PathBuf>) -> Result<PathBuf> {
    let bin = match given {
        Some(b) => b,
        None => std::env::current_exe()?.with_file_name("auditlog"),
    };
    if !bin.exists() {
        bail!(
            "{} not found; build it with `cargo build --release -p auditlog-cli`",
            bin.display()
        );
    }
    Ok(bin)
}

pub fn run(args: Args) -> Result<()> {
    let bin = auditlog_bin(args.auditlog.clone())?;
    let events = workload(args.events)?;
    let bytes: usize = events.iter().map(|e| e.len() + 1).sum();
    let bodies = ndjson_bodies(&events, args.batch);
    let tmp = tempfile::tempdir()?;
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| tmp.path().join("data"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let server = start_server(&bin, &dir, port, &args.serve_arg)?;
    let pid = server.child.id();
    let url = format!("http://127.0.0.1:{port}/v1/events:batch");
    let started = Instant::now();
    let accepted = post_batches(&url, bodies, args.connections)?.accepted;
    let elapsed = started.elapsed();
    let rss = peak_rss_kib(pid).unwrap_or(0);
    let cpu = cpu_seconds(pid).unwrap_or(0.0);
    let threads = cpu_by_thread(pid);
    drop(server);
    let ev_s = args.events as f64 / elapsed.as_secs_f64();
    let mb_s = bytes as f64 / 1e6 / elapsed.as_secs_f64();
    println!(
        "events: {} ({:.1} MB), batches of {} over {} connections, fsync on",
        args.events,
        bytes as f64 / 1e6,
        args.batch,
        args.connections
    );
    println!(
        "auditlog serve: {:.2} s, {ev_s:.0} events/s, {mb_s:.1} MB/s, peak RSS {:.0} MB, server CPU {cpu:.1} s ({:.1} µs/event), {accepted} accepted",
        elapsed.as_secs_f64(),
        rss as f64 / 1024.0,
        cpu * 1e6 / args.events as f64
    );
    let parts: Vec<String> = threads
        .iter()
        .filter(|(_, c)| *c >= 0.05)
        .map(|(n, c)| format!("{n} {c:.1} s"))
        .collect();
    println!("server CPU by thread: {}", parts.join(", "));
    if args.no_floor {
        return Ok(());
    }
    let (floor, (parse_t, insert_t)) = floor(&events);
    let floor = floor?;
    let f_ev_s = args.events as f64 / (parse_t + insert_t).as_secs_f64();
    println!(
        "floor (serde_json parse {:.2} s + bare SQLite insert in one transaction {:.2} s): {f_ev_s:.0} events/s ({floor} rows)",
        parse_t.as_secs_f64(),
        insert_t.as_secs_f64()
    );
    println!("ratio to floor: {:.2}x", ev_s / f_ev_s);
    Ok(())
}

/// NDJSON request bodies of `batch` events each.
pub(crate) fn ndjson_bodies(events: &[Vec<u8>], batch: usize) -> Vec<Vec<u8>> {
    events
        .chunks(batch.max(1))
        .map(|c| {
            let mut b = Vec::with_capacity(c.iter().map(|e| e.len() + 1).sum());
            for e in c {
                b.extend_from_slice(e);
                b.push(b'\n');
            }
            b
        })
        .collect()
}

/// What [`post_batches`] saw.
#[derive(Debug)]
pub(crate) struct Posted {
    /// Items the server reported as accepted.
    pub accepted: usize,
    /// Each request's round trip (send to body read), in no particular order.
    pub latencies: Vec<Duration>,
}

/// POST every body to `url` from `connections` keep-alive clients, each
/// taking the next body when its previous one is answered; any non-200 fails.
pub(crate) fn post_batches(url: &str, bodies: Vec<Vec<u8>>, connections: usize) -> Result<Posted> {
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..connections.max(1))
        .map(|_| {
            let (bodies, next, url) = (bodies.clone(), next.clone(), url.to_owned());
            std::thread::spawn(move || -> Result<(usize, Vec<Duration>)> {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut accepted = 0;
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else {
                        return Ok((accepted, latencies));
                    };
                    let t = Instant::now();
                    let mut r = agent
                        .post(&url)
                        .header("content-type", "application/x-ndjson")
                        .send(&body[..])?;
                    let status = r.status().as_u16();
                    let text = r.body_mut().with_config().limit(1 << 30).read_to_string()?;
                    latencies.push(t.elapsed());
                    if status != 200 {
                        bail!(
                            "batch {i} got {status}: {}",
                            text.chars().take(300).collect::<String>()
                        );
                    }
                    accepted += text.matches("\"status\":\"accepted\"").count();
                }
            })
        })
        .collect();
    let mut out = Posted {
        accepted: 0,
        latencies: Vec::with_capacity(bodies.len()),
    };
    for w in workers {
        let (a, l) = w
            .join()
            .map_err(|_| anyhow::anyhow!("client thread panicked"))??;
        out.accepted += a;
        out.latencies.extend(l);
    }
    Ok(out)
}

/// Parse every event with serde_json, then insert the same rows (index fields
/// and payload, no secondary indexes) in one SQLite transaction.
fn floor(events: &[Vec<u8>]) -> (Result<usize>, (Duration, Duration)) {
    let (pt, values) = time(|| {
        events
            .iter()
            .map(|e| serde_json::from_slice::<serde_json::Value>(e))
            .collect::<Result<Vec<_>, _>>()
    });
    let values = match values {
        Ok(v) => v,
        Err(e) => return (Err(e.into()), (pt, Duration::ZERO)),
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return (Err(e.into()), (pt, Duration::ZERO)),
    };
    let (it, r) = time(|| -> Result<usize> {
        let c = rusqlite::Connection::open(dir.path().join("floor.db"))?;
        c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE ev(id TEXT, time TEXT, type TEXT, method TEXT, principal TEXT, resource TEXT, status TEXT, access TEXT, ip TEXT, payload BLOB)")?;
        let tx = c.unchecked_transaction()?;
        {
            let mut st = tx.prepare("INSERT INTO ev VALUES (?,?,?,?,?,?,?,?,?,?)")?;
            for (v, raw) in values.iter().zip(events) {
                let d = &v["data"];
                let s = |x: &serde_json::Value| x.as_str().map(str::to_owned);
                let principal =
                    s(&d["authenticationInfo"]["principal"]["confluentUser"]["resourceId"])
                        .or_else(|| {
                            s(&d["authentication_info"]["principal"]["confluent_user"]
                                ["resource_id"])
                        });
                st.execute(rusqlite::params![
                    s(&v["id"]),
                    s(&v["time"]),
                    s(&v["type"]),
                    s(&d["methodName"]).or_else(|| s(&d["method_name"])),
                    principal,
                    s(&d["resourceName"]).or_else(|| s(&d["resource_name"])),
                    s(&d["result"]["status"]),
                    s(&d["request"]["accessType"]).or_else(|| s(&d["request"]["access_type"])),
                    s(&d["requestMetadata"]["clientAddress"][0]["ip"]),
                    raw
                ])?;
            }
        }
        tx.commit()?;
        Ok(values.len())
    });
    (r, (pt, it))
}
