//! The broker the Kafka benchmarks run against: tansu (built by
//! `scripts/kafka-broker.sh install`), started fresh on its own port and
//! directory for each side so that one side's data never slows the other.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// tansu's storage engines that keep data (its default "null" engine drops it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// `memory://`: nothing touches disk; the broker's fastest engine.
    Memory,
    /// `sqlite://`: every produce is an SQLite write.
    Sqlite,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Memory => "memory",
            Engine::Sqlite => "sqlite",
        }
    }
}

/// The tansu binary: the one given, else `AUDITLOG_TANSU`, else the
/// script's cache (the same lookup as the integration tests).
pub fn tansu_bin(given: Option<PathBuf>) -> Result<PathBuf> {
    let p = match given.or_else(|| std::env::var_os("AUDITLOG_TANSU").map(PathBuf::from)) {
        Some(p) => p,
        None => {
            let cache = std::env::var_os("AUDITLOG_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("XDG_CACHE_HOME").map(|x| PathBuf::from(x).join("auditlog"))
                })
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/auditlog"))
                })
                .context("no HOME to find the broker's cache in")?;
            cache.join("tansu-0.6.0/bin/tansu")
        }
    };
    if !p.exists() {
        bail!(
            "{} not found; build it with `scripts/kafka-broker.sh install` or pass --tansu",
            p.display()
        );
    }
    Ok(p)
}

/// A running broker; stopped when dropped.
pub struct Broker {
    child: Child,
    bin: PathBuf,
    pub port: u16,
    // Held so the directory lives as long as the broker.
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker").field("port", &self.port).finish()
    }
}

impl Broker {
    /// Start on a free port from a clean directory and wait for the port.
    pub fn start(bin: &Path, engine: Engine) -> Result<Broker> {
        let dir = tempfile::tempdir()?;
        let port = super::free_port()?;
        let url = match engine {
            Engine::Memory => "memory://tansu/",
            // Relative to the working directory: tansu refuses absolute paths.
            Engine::Sqlite => "sqlite://tansu.db",
        };
        let log = std::fs::File::create(dir.path().join("broker.log"))?;
        let child = Command::new(bin)
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
            .current_dir(dir.path())
            // tansu reads these (and ./.env); a stray one would move the listener.
            .env_remove("STORAGE_ENGINE")
            .env_remove("LISTENER_URL")
            .env_remove("ADVERTISED_LISTENER_URL")
            .env_remove("CLUSTER_ID")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut b = Broker {
            child,
            bin: bin.to_owned(),
            port,
            dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(s)) = b.child.try_wait() {
                bail!("the broker exited with {s}; see {}", b.log().display());
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("the broker did not open port {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if engine == Engine::Sqlite {
            b.index_headers()?;
        }
        Ok(b)
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("broker.log")
    }

    /// tansu 0.6's SQLite schema has no index on `header`, which makes
    /// consuming records with headers quadratic (see the broker notes); the
    /// index is added while the broker runs, once it has created the table.
    fn index_headers(&self) -> Result<()> {
        let db = self.dir.path().join("tansu.db");
        let started = Instant::now();
        loop {
            let done = rusqlite::Connection::open(&db).and_then(|c| {
                c.busy_timeout(Duration::from_secs(5))?;
                c.execute_batch(
                    "create index if not exists header_topition_offset on header (topition, offset_id)",
                )
            });
            match done {
                Ok(()) => return Ok(()),
                Err(e) if started.elapsed() > Duration::from_secs(10) => {
                    bail!("indexing tansu's header table: {e}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// The sum of `topic`'s partitions' high watermarks: what the broker
    /// says it holds (docs/test-broker.md: tansu's memory engine has said
    /// less than it acknowledged).
    pub fn records_held(&self, topic: &str) -> Result<usize> {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        let c: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", self.bootstrap())
            .create()?;
        let mut sum = 0;
        for p in 0..super::PARTITIONS as i32 {
            let (low, high) = c.fetch_watermarks(topic, p, Duration::from_secs(10))?;
            sum += usize::try_from(high - low).unwrap_or(0);
        }
        Ok(sum)
    }

    /// Create `name` with `partitions` partitions.
    pub fn create_topic(&self, name: &str, partitions: u32) -> Result<()> {
        let out = Command::new(&self.bin)
            .args(["topic", "create", "--broker"])
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .args(["--partitions", &partitions.to_string(), name])
            .current_dir(self.dir.path())
            .output()?;
        if !out.status.success() {
            bail!(
                "creating topic {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // SIGTERM first; a busy SQLite broker may ignore it, hence SIGKILL.
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
