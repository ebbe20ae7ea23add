//! Why the store does not index every record in SQLite directly: insert
//! throughput of rusqlite into an events table with 0..N secondary indexes,
//! one transaction per 5,000 rows, WAL, synchronous=OFF (its best case).

use std::time::Instant;

use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rows to insert per configuration.
    #[arg(long, default_value_t = 1_000_000)]
    rows: i64,
}

const INDEXES: [&str; 9] = [
    "CREATE INDEX i_time ON ev(time)",
    "CREATE INDEX i_method ON ev(method, time)",
    "CREATE INDEX i_principal ON ev(principal, time)",
    "CREATE INDEX i_org ON ev(org, time)",
    "CREATE INDEX i_env ON ev(env, time)",
    "CREATE INDEX i_res ON ev(resource)",
    "CREATE INDEX i_status ON ev(status, time)",
    "CREATE INDEX i_ip ON ev(ip)",
    "CREATE INDEX i_idh ON ev(idh)",
];

pub fn run(args: Args) -> Result<()> {
    println!("| secondary indexes | rows/s |");
    println!("|---:|---:|");
    for n in [0usize, 1, 3, 5, 9] {
        let dir = tempfile::tempdir()?;
        let c = rusqlite::Connection::open(dir.path().join("t.db"))?;
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;",
        )?;
        c.execute_batch("CREATE TABLE ev(off INTEGER PRIMARY KEY, time INTEGER, type INTEGER, method INTEGER, principal INTEGER, org INTEGER, env INTEGER, resource INTEGER, status INTEGER, access INTEGER, ip INTEGER, idh INTEGER, pos INTEGER)")?;
        for s in INDEXES.iter().take(n) {
            c.execute_batch(s)?;
        }
        let t = Instant::now();
        let mut x: u64 = 1;
        let mut off = 0i64;
        while off < args.rows {
            let tx = c.unchecked_transaction()?;
            {
                let mut st =
                    tx.prepare_cached("INSERT INTO ev VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")?;
                for _ in 0..5000 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let v = |m: u64| (x % m) as i64;
                    st.execute(rusqlite::params![
                        off,
                        1_700_000_000_000i64 + off * 10 + v(1000),
                        v(13),
                        v(34),
                        v(5000),
                        v(50),
                        v(500),
                        v(200_000),
                        v(2),
                        v(2),
                        v(10_000),
                        (x >> 1) as i64,
                        off * 1400
                    ])?;
                    off += 1;
                }
            }
            tx.commit()?;
        }
        println!(
            "| {n} | {:.0} |",
            args.rows as f64 / t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
