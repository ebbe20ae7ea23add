//! The service's command-line side: configuration precedence (flags > env >
//! file), `get`, `import`, `generate` and `check`, against the real binary.

mod common;
use common::server::{free_port, get, Server};
use common::{root, run, stderr, stdout};

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_ready(url: &str) {
    let started = Instant::now();
    while common::server::agent()
        .get(&format!("{url}/readyz"))
        .call()
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not ready: {url}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn flags_beat_environment_beat_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let (p_file, p_env, p_flag) = (free_port(), free_port(), free_port());
    let cfg = dir.path().join("auditlog.toml");
    std::fs::write(
        &cfg,
        format!(
            "addr = \"127.0.0.1:{p_file}\"\ndata_dir = \"{}\"\nmax_batch_records = 7\n",
            dir.path().join("d").display()
        ),
    )
    .unwrap();
    let start = |env_addr: Option<u16>, flag: Option<u16>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_auditlog"));
        c.args(["serve", "--config", cfg.to_str().unwrap(), "--log", "warn"])
            .stdout(Stdio::null())
            .env_remove("AUDITLOG_ADDR");
        if let Some(p) = env_addr {
            c.env("AUDITLOG_ADDR", format!("127.0.0.1:{p}"));
        }
        if let Some(p) = flag {
            c.args(["--addr", &format!("127.0.0.1:{p}")]);
        }
        c.spawn().unwrap()
    };
    for (env_addr, flag, expect) in [
        (None, None, p_file),
        (Some(p_env), None, p_env),
        (Some(p_env), Some(p_flag), p_flag),
    ] {
        let mut child = start(env_addr, flag);
        let url = format!("http://127.0.0.1:{expect}");
        wait_ready(&url);
        // The file's other settings still apply.
        let body = format!("[{}]", ["{}"; 8].join(","));
        let (s, b) = common::server::post(
            &format!("{url}/v1/events:batch"),
            "application/cloudevents-batch+json",
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(s, 413, "{}", String::from_utf8_lossy(&b));
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(child.wait().unwrap().success());
    }
}

#[test]
fn get_import_generate_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // generate: the same seed gives the same bytes.
    let a = run(&["generate", "-n", "300", "--seed", "9"], b"");
    let b = run(&["generate", "-n", "300", "--seed", "9"], b"");
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(stdout(&a).lines().count(), 300);
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, &a.stdout).unwrap();

    // import into a server, twice: the second time everything is a duplicate.
    let server = Server::start(&data, &["--validation", "lenient"]);
    let o = run(
        &["import", file.to_str().unwrap(), "--server", &server.url],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("300 accepted, 0 duplicates"),
        "{}",
        stdout(&o)
    );
    let o = run(
        &["import", file.to_str().unwrap(), "--server", &server.url],
        b"",
    );
    assert!(
        stdout(&o).contains("0 accepted, 300 duplicates"),
        "{}",
        stdout(&o)
    );

    // get by offset and by id, from the server and from the data directory
    // (read-only, while the server runs).
    let first = stdout(&a).lines().next().unwrap().to_owned();
    let id = serde_json::from_str::<serde_json::Value>(&first).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for target in [
        vec!["--server", server.url.as_str()],
        vec!["--data-dir", data.to_str().unwrap()],
    ] {
        let mut args = vec!["get", "0"];
        args.extend(&target);
        let o = run(&args, b"");
        assert_eq!(stdout(&o).trim_end(), first, "{}", stderr(&o));
        let mut args = vec!["get", "--id", id.as_str()];
        args.extend(&target);
        assert_eq!(stdout(&run(&args, b"")).trim_end(), first);
        let mut args = vec!["get", "999999"];
        args.extend(&target);
        let o = run(&args, b"");
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("not found"), "{}", stderr(&o));
    }
    assert_eq!(get(&format!("{}/v1/events?id={id}", server.url)).0, 200);
    server.stop();

    // import straight into a data directory: the seeds, leniently.
    let seeds = dir.path().join("seeds");
    let o = run(
        &[
            "import",
            root().join("tests/data/seed-examples").to_str().unwrap(),
            "--data-dir",
            seeds.to_str().unwrap(),
            "--validation",
            "lenient",
        ],
        b"",
    );
    assert!(
        stdout(&o).contains("58 file(s): 58 accepted"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    // Strict refuses the ones with errors and says why.
    let strict = dir.path().join("strict");
    let o = run(
        &[
            "import",
            root().join("tests/data/seed-examples").to_str().unwrap(),
            "--data-dir",
            strict.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("2 rejected") && stdout(&o).contains("\"id\" is missing"),
        "{}",
        stdout(&o)
    );

    // check: clean, then damaged.
    let o = run(&["check", data.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("OK: 300 records"), "{}", stdout(&o));
    let seg = data.join("log/00000000000000000000.seg");
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&seg, bytes).unwrap();
    let o = run(&["check", data.to_str().unwrap(), "--output", "json"], b"");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["problems"][0]["offset"].as_u64().is_some());
    assert!(
        v["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("checksum"),
        "{v}"
    );
}
