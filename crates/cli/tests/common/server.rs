//! Running the real `auditlog serve` binary in tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub dir: PathBuf,
    pub extra: Vec<String>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Start `auditlog serve` on `dir` with extra flags, and wait until ready.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        Server::start_on(dir, free_port(), extra)
    }

    /// [`Server::start`] on a port the caller chose (to tell peers before).
    pub fn start_on(dir: &Path, port: u16, extra: &[&str]) -> Server {
        let mut s = Server {
            child: spawn(dir, port, extra),
            url: format!("http://127.0.0.1:{port}"),
            dir: dir.to_owned(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("server exited early with {status}");
            }
            if let Ok(r) = agent().get(&format!("{}/readyz", self.url)).call() {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not become ready"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, then start again on the same port and directory.
    pub fn crash_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let port: u16 = self.url.rsplit(':').next().unwrap().parse().unwrap();
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        self.child = spawn(&self.dir, port, &extra);
        self.wait_ready();
    }

    /// Start again on the same port and directory after the caller killed
    /// and reaped the process.
    pub fn crash_and_restart_after_kill(&mut self) {
        let port: u16 = self.url.rsplit(':').next().unwrap().parse().unwrap();
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        self.child = spawn(&self.dir, port, &extra);
        self.wait_ready();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let s = self.child.wait().unwrap();
        std::mem::forget(self);
        s
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(dir: &Path, port: u16, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--log",
            "warn",
        ])
        .args(extra)
        .env_remove("AUDITLOG_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// POST and return (status, body).
pub fn post(url: &str, content_type: &str, body: &[u8]) -> Result<(u16, Vec<u8>), ureq::Error> {
    let mut r = agent()
        .post(url)
        .header("content-type", content_type)
        .send(body)?;
    let status = r.status().as_u16();
    Ok((
        status,
        r.body_mut().with_config().limit(1 << 30).read_to_vec()?,
    ))
}

pub fn get(url: &str) -> (u16, Vec<u8>) {
    let mut r = agent().get(url).call().unwrap();
    let status = r.status().as_u16();
    (
        status,
        r.body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap(),
    )
}

pub fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

/// POST records as one NDJSON batch; every one must be accepted.
pub fn ingest(url: &str, records: &[Vec<u8>]) {
    let body: Vec<u8> = records
        .iter()
        .flat_map(|r| r.iter().copied().chain([b'\n']))
        .collect();
    let (status, answer) = post(
        &format!("{url}/v1/events:batch"),
        "application/x-ndjson",
        &body,
    )
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let a = json(&answer);
    let items = a["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["status"] == "accepted"), "{a}");
}

/// The committed record count, from /metrics.
pub fn committed(url: &str) -> u64 {
    let (_, body) = get(&format!("{url}/metrics"));
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("auditlog_store_records "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
