//! `auditlog demo`: `serve` on the embedded store plus the reference control
//! plane in one process, a seeded workload through every audited method
//! (successes and failures, several principals, organizations and
//! environments), a summary, and what to try next.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use auditlog_control_plane::workload::{self, Options, Summary};
use auditlog_control_plane::ControlPlane;
use auditlog_sdk::AuditClient;
use tokio::sync::watch;

use crate::cmd::control_plane::{counters_line, print_tokens, with_metrics, EmitArgs};
use crate::output::{write_json, Format, Style, Table};
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the demo's records are kept (reused across runs).
    #[arg(long, value_name = "DIR", default_value = "auditlog-demo")]
    data_dir: PathBuf,
    /// Address of the audit-log server.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Address of the control plane.
    #[arg(long, default_value = "127.0.0.1:8081")]
    control_plane_addr: SocketAddr,
    /// Seeds the workload: the same seed makes the same calls.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Extra rounds of random reads after the scripted calls.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Stop after the workload instead of serving until Ctrl-C.
    #[arg(long)]
    exit: bool,
    /// How to print the per-method summary.
    #[arg(long, value_enum, default_value = "table")]
    output: Format,
    #[command(flatten)]
    emit: EmitArgs,
    /// Log filter.
    #[arg(long, env = "AUDITLOG_LOG", default_value = "warn")]
    log: String,
}

fn summary_table(s: &Summary) -> Table {
    let mut t = Table::new(&["method", "calls", "ok", "failed (status × n)"]);
    for (m, c) in &s.by_method {
        let failed: Vec<String> = c
            .failures
            .iter()
            .map(|(st, n)| format!("{st}×{n}"))
            .collect();
        t.push(vec![
            (*m).to_owned(),
            c.calls.to_string(),
            c.successes.to_string(),
            failed.join(" "),
        ]);
        t.highlight.push(false);
    }
    t
}

pub fn run(args: Args) -> Result<Outcome> {
    crate::cmd::serve::init_logging(&args.log);
    let style = Style::stdout();
    let server_url = format!("http://{}", args.addr);
    let cp_url = format!("http://{}", args.control_plane_addr);
    let config = auditlog_server::Config {
        addr: args.addr,
        data_dir: args.data_dir.clone(),
        ..auditlog_server::Config::default()
    };
    let client_config = args.emit.client_config()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("auditlog-demo")
        .build()
        .context("starting the async runtime")?;
    let cp = ControlPlane::demo();
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let bind = |addr: SocketAddr, what: &'static str| async move {
        tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr} for the {what}; is something else using the port? (choose another with --addr / --control-plane-addr)")
        })
    };
    let (server, client, control_plane) =
        rt.block_on(async {
            let listener = bind(args.addr, "audit-log server").await?;
            let server = tokio::spawn(auditlog_server::serve_on(
                config,
                listener,
                stopped(stop_rx.clone()),
            ));
            let client = Arc::new(AuditClient::http(&server_url, client_config).with_context(
                || format!("opening the spool in {}", args.emit.spool_dir.display()),
            )?);
            let listener = bind(args.control_plane_addr, "control plane").await?;
            let app = with_metrics(
                auditlog_control_plane::app(cp.clone(), client.clone()),
                client.clone(),
            );
            let control_plane = tokio::spawn(auditlog_control_plane::serve(
                listener,
                app,
                stopped(stop_rx.clone()),
            ));
            anyhow::Ok((server, client, control_plane))
        })?;

    println!(
        "{} audit-log server on {server_url} (data in {}), control plane on {cp_url}",
        style.bold("auditlog demo:"),
        args.data_dir.display()
    );
    let total = (auditlog_catalog::Catalog::builtin().methods().len() * 3) as u64;
    let bar = crate::progress::count("calling the control plane", total);
    let options = Options {
        seed: args.seed,
        rounds: args.rounds,
    };
    let summary = workload::run(&cp_url, cp.seed(), &options, |_| bar.inc(1))
        .context("driving the control plane")?;
    bar.finish_and_clear();
    let counters = match client.flush(Duration::from_secs(60)) {
        Ok(c) => c,
        Err(c) => bail!(
            "the audit events did not all reach the server within 60 s ({}); is it healthy? The rest wait in {}",
            counters_line(&c),
            args.emit.spool_dir.display()
        ),
    };

    let mut out = std::io::stdout().lock();
    match args.output {
        Format::Table => {
            summary_table(&summary).write_table(&mut out, None)?;
        }
        Format::Csv => summary_table(&summary).write_csv(&mut out)?,
        Format::Json => {
            let v: serde_json::Value = summary
                .by_method
                .iter()
                .map(|(m, c)| {
                    (
                        (*m).to_owned(),
                        serde_json::json!({"calls": c.calls, "ok": c.successes, "failed": c.failures.iter().map(|(s, n)| (s.to_string(), serde_json::Value::from(*n))).collect::<serde_json::Map<_, _>>()}),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
            write_json(&mut out, &v)?;
        }
    }
    drop(out);
    println!(
        "\n{} calls: {} succeeded, {} failed ({}); {} methods",
        summary.calls,
        summary.successes,
        summary.calls - summary.successes,
        summary
            .failures
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect::<Vec<_>>()
            .join(" "),
        summary.by_method.len()
    );
    println!("{}", counters_line(&counters));
    if !summary.unexpected.is_empty() {
        println!(
            "{} {} calls got another status than the script expected (state left by an earlier run in the same process?)",
            style.yellow("note:"),
            summary.unexpected.len()
        );
    }
    println!();
    print_tokens(cp.seed(), &style);
    println!("\n{}", style.bold("try next:"));
    let org = auditlog_control_plane::ACME_ORG;
    let tries = [
        format!("auditlog query --server {server_url} 'status = FAILURE' --limit 20"),
        format!("auditlog stats --server {server_url} --group-by method --failures"),
        format!("auditlog query --server {server_url} 'organization = {org} AND method : Create*' --output json"),
        format!("auditlog query --server {server_url} 'principal = u-car0l4 AND error_code = 403'"),
        format!("auditlog tail -f --server {server_url}"),
        format!("curl -s -H 'Authorization: Bearer demo-alice' {cp_url}/iam/v2/identity-providers"),
    ];
    for t in tries {
        println!("  {t}");
    }
    if !args.exit {
        println!("\n(serving until Ctrl-C; new calls to the control plane are audited live)");
        rt.block_on(auditlog_server::shutdown_signal());
    }
    let _ = stop_tx.send(true);
    rt.block_on(async {
        let _ = control_plane.await;
    });
    let c = match Arc::try_unwrap(client) {
        Ok(c) => c.close(Duration::from_secs(10)),
        Err(c) => c.counters(),
    };
    rt.block_on(async {
        match server.await {
            Ok(r) => r.context("the audit-log server failed"),
            Err(e) => Err(anyhow::anyhow!("the audit-log server task failed: {e}")),
        }
    })?;
    if c.in_flight() > 0 {
        eprintln!("{}", counters_line(&c));
    }
    Ok(Outcome::Ok)
}
