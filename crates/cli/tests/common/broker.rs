//! A real Kafka-protocol broker (tansu, built by scripts/kafka-broker.sh)
//! for tests: its own directory and port on 127.0.0.1, stopped when dropped.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::server::free_port;

/// The tansu binary: `AUDITLOG_TANSU`, else where the script caches it.
pub fn tansu() -> PathBuf {
    if let Some(p) = std::env::var_os("AUDITLOG_TANSU") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("AUDITLOG_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|x| PathBuf::from(x).join("auditlog")))
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/auditlog")
        });
    let p = cache.join("tansu-0.6.0/bin/tansu");
    assert!(
        p.exists(),
        "the test broker is not built: run `scripts/kafka-broker.sh install` (scripts/test.sh does) or set AUDITLOG_TANSU"
    );
    p
}

/// A running broker.
pub struct Broker {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub engine: &'static str,
}

impl Broker {
    /// Start on a free port with `memory` or `sqlite` storage.
    pub fn start(engine: &'static str) -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut b = Broker {
            child: spawn(dir.path(), port, engine),
            port,
            dir,
            engine,
        };
        b.wait();
        b.index_headers();
        b
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn wait(&mut self) {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(s)) = self.child.try_wait() {
                panic!("the broker exited with {s}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the broker did not open its port"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Create a topic.
    pub fn create_topic(&self, name: &str, partitions: u32) {
        let out = Command::new(tansu())
            .args([
                "topic",
                "create",
                "--broker",
                &format!("tcp://127.0.0.1:{}", self.port),
            ])
            .args(["--partitions", &partitions.to_string(), name])
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "creating topic {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stop (SIGTERM, then SIGKILL) and start again on the same port and directory.
    pub fn restart(&mut self) {
        self.restart_after(Duration::ZERO);
    }

    /// [`Broker::restart`], staying down for `down` in between.
    pub fn restart_after(&mut self, down: Duration) {
        self.stop_process();
        std::thread::sleep(down);
        self.child = spawn(self.dir.path(), self.port, self.engine);
        self.wait();
    }

    /// tansu's SQLite schema has no index on `header`, so consuming records
    /// with headers (ours carry content-type) gets quadratic after ~100k
    /// records (../shared/notes/kafka-broker.md). The index persists in
    /// the file; the broker creates the table at start, hence the retries.
    fn index_headers(&self) {
        if self.engine != "sqlite" {
            return;
        }
        let db = rusqlite::Connection::open(self.dir.path().join("tansu.db")).unwrap();
        db.busy_timeout(Duration::from_secs(5)).unwrap();
        let started = Instant::now();
        loop {
            match db.execute_batch(
                "create index if not exists header_topition_offset on header (topition, offset_id)",
            ) {
                Ok(()) => return,
                Err(e) => assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "indexing the broker's header table: {e}"
                ),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop_process(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop_process();
    }
}

fn spawn(dir: &std::path::Path, port: u16, engine: &str) -> Child {
    let url = match engine {
        "memory" => "memory://tansu/",
        // Relative to the working directory: tansu refuses absolute paths.
        _ => "sqlite://tansu.db",
    };
    Command::new(tansu())
        .args([
            "broker",
            "--listener-url",
            &format!("tcp://127.0.0.1:{port}"),
        ])
        .args([
            "--advertised-listener-url",
            &format!("tcp://127.0.0.1:{port}"),
        ])
        .args(["--storage-engine", url])
        .current_dir(dir)
        .env_remove("STORAGE_ENGINE")
        .env_remove("LISTENER_URL")
        .env_remove("ADVERTISED_LISTENER_URL")
        .env_remove("CLUSTER_ID")
        // Kept beside the broker's data, for reading after a failure.
        .stdout(log(dir))
        .stderr(log(dir))
        .spawn()
        .unwrap()
}

/// The broker's log: `broker.log` in its directory, or `AUDITLOG_BROKER_LOG`
/// (the directory is deleted with the test; set this to keep the log).
fn log(dir: &std::path::Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(
            std::env::var_os("AUDITLOG_BROKER_LOG")
                .map(PathBuf::from)
                .unwrap_or_else(|| dir.join("broker.log")),
        )
        .unwrap()
}
