//! `auditlog control-plane`: the reference control plane (connectors, Flink,
//! identity), every call audited through the SDK to an `auditlog serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use auditlog_control_plane::{ControlPlane, Role, Seed};
use auditlog_redact::{RedactionConfig, Redactor};
use auditlog_sdk::{AuditClient, ClientConfig, Counters, Policy};

use crate::client::DEFAULT_SERVER;
use crate::output::Style;
use crate::Outcome;

/// How the control plane's audit client behaves (shared with `demo`).
#[derive(Debug, clap::Args)]
pub struct EmitArgs {
    /// Where undeliverable audit events wait (created if missing).
    #[arg(
        long,
        env = "AUDITLOG_SPOOL_DIR",
        value_name = "DIR",
        default_value = "auditlog-spool"
    )]
    pub spool_dir: PathBuf,
    /// When the server is down and the spool is full: wait (fail-closed) or drop and count (fail-open).
    #[arg(long, value_enum, default_value = "fail-closed")]
    pub policy: PolicyArg,
    /// The spool's limit in bytes.
    #[arg(long, default_value_t = 1 << 30)]
    pub spool_max_bytes: u64,
    /// Redaction rules: a TOML file with a `[redaction]` table (docs/redaction.md).
    #[arg(long, value_name = "FILE")]
    pub redaction: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PolicyArg {
    FailClosed,
    FailOpen,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(
        long,
        env = "AUDITLOG_CONTROL_PLANE_ADDR",
        default_value = "127.0.0.1:8081"
    )]
    addr: SocketAddr,
    /// The `auditlog serve` that receives the audit events.
    #[arg(long, env = "AUDITLOG_SERVER", default_value = DEFAULT_SERVER)]
    server: String,
    #[command(flatten)]
    emit: EmitArgs,
    /// Log filter, e.g. `info` or `auditlog_sdk=debug`.
    #[arg(long, env = "AUDITLOG_LOG", default_value = "info")]
    log: String,
}

#[derive(serde::Deserialize)]
struct RedactionFile {
    #[serde(default)]
    redaction: RedactionConfig,
}

impl EmitArgs {
    /// The SDK client configuration these flags describe.
    pub fn client_config(&self) -> Result<ClientConfig> {
        let redactor = match &self.redaction {
            None => Redactor::with_defaults(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                let f: RedactionFile = toml::from_str(&text)
                    .with_context(|| format!("{} is not a valid redaction file", p.display()))?;
                Redactor::new(&f.redaction).with_context(|| format!("{}", p.display()))?
            }
        };
        Ok(ClientConfig {
            policy: match self.policy {
                PolicyArg::FailClosed => Policy::FailClosed,
                PolicyArg::FailOpen => Policy::FailOpen,
            },
            spool_dir: Some(self.spool_dir.clone()),
            spool_max_bytes: self.spool_max_bytes,
            redactor,
            ..ClientConfig::default()
        })
    }
}

/// One line about the audit client's counters.
pub fn counters_line(c: &Counters) -> String {
    format!(
        "audit events: {} emitted, {} delivered, {} retried, {} spooled, {} dropped, {} rejected, {} recovered from the spool, {} secrets redacted, {} waiting in the spool",
        c.emitted, c.delivered, c.retried, c.spooled, c.dropped, c.rejected, c.recovered, c.redacted, c.spool_records
    )
}

/// The control plane's routes plus `GET /metrics`: the audit client's
/// counters in Prometheus text, so an operator sees drops and spool growth.
/// Not an audited route (it is added after the AuditLayer).
pub fn with_metrics(app: axum::Router, client: Arc<AuditClient>) -> axum::Router {
    app.route(
        "/metrics",
        axum::routing::get(move || {
            let c = client.counters();
            async move {
                let mut out = String::from(
                    "# HELP auditlog_sdk_events_total Audit events by what became of them.\n# TYPE auditlog_sdk_events_total counter\n",
                );
                for (what, n) in [
                    ("emitted", c.emitted),
                    ("delivered", c.delivered),
                    ("retried", c.retried),
                    ("spooled", c.spooled),
                    ("dropped", c.dropped),
                    ("rejected", c.rejected),
                    ("recovered", c.recovered),
                ] {
                    out.push_str(&format!("auditlog_sdk_events_total{{outcome=\"{what}\"}} {n}\n"));
                }
                out.push_str(&format!(
                    "# HELP auditlog_sdk_redacted_total Secret values redacted.\n# TYPE auditlog_sdk_redacted_total counter\nauditlog_sdk_redacted_total {}\n# HELP auditlog_sdk_spool_records Events waiting in the spool.\n# TYPE auditlog_sdk_spool_records gauge\nauditlog_sdk_spool_records {}\n# HELP auditlog_sdk_spool_bytes Bytes in the spool.\n# TYPE auditlog_sdk_spool_bytes gauge\nauditlog_sdk_spool_bytes {}\n",
                    c.redacted, c.spool_records, c.spool_bytes
                ));
                out
            }
        }),
    )
}

/// Print the demo principals' tokens.
pub fn print_tokens(seed: &Seed, style: &Style) {
    println!(
        "{}",
        style.bold("principals (Authorization: Bearer TOKEN):")
    );
    for p in &seed.principals {
        let org = seed
            .organizations
            .iter()
            .find(|o| o.id == p.principal.organization)
            .map_or("?", |o| o.name.as_str());
        let role = match &p.role {
            Role::OrgAdmin => "organization admin".to_owned(),
            Role::EnvironmentAdmin(envs) => format!(
                "admin of {}",
                envs.iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        println!(
            "  {:<16} {:<10} {:<20} {org:<7} {role}",
            p.token,
            p.principal.id,
            p.principal.email.as_deref().unwrap_or("-"),
        );
    }
}

pub fn run(args: Args) -> Result<Outcome> {
    crate::cmd::serve::init_logging(&args.log);
    let config = args.emit.client_config()?;
    let client = Arc::new(
        AuditClient::http(&args.server, config)
            .with_context(|| format!("opening the spool in {}", args.emit.spool_dir.display()))?,
    );
    let cp = ControlPlane::demo();
    let style = Style::stdout();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("control-plane")
        .build()
        .context("starting the async runtime")?;
    let app = with_metrics(
        auditlog_control_plane::app(cp.clone(), client.clone()),
        client.clone(),
    );
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}; is another process using the port? (change it with --addr)", args.addr))?;
        println!(
            "control plane on http://{}, auditing to {} (spool {})",
            listener.local_addr()?,
            args.server,
            args.emit.spool_dir.display()
        );
        print_tokens(cp.seed(), &style);
        auditlog_control_plane::serve(listener, app, auditlog_server::shutdown_signal())
            .await
            .context("serving")
    })?;
    drop(rt);
    let c = match Arc::try_unwrap(client) {
        Ok(c) => c.close(Duration::from_secs(10)),
        Err(c) => c.counters(),
    };
    eprintln!("{}", counters_line(&c));
    Ok(Outcome::Ok)
}
