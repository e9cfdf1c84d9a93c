//! Paging benchmark: 100,000 Patients in searchset pages served as static files by nginx over
//! loopback, read by fhirforge (`SearchRequest::resources`) and by raw `reqwest` + `serde_json`
//! doing the same requests (GET, whole body, parse to `Value`, follow `next`).
//!
//! Run with `scripts/bench-paging.sh` (installs nginx from Debian, then
//! `cargo bench -p fhirforge-runtime --bench paging`). Each run is a separate child process, so
//! its peak RSS (`VmHWM`) is its own; variants alternate; the median of the runs is reported.
//!
//! Environment: `BENCH_RUNS` (default 7), `BENCH_PATIENTS` (100000), `BENCH_PAGE_SIZE` (100),
//! `NGINX` (default `/usr/sbin/nginx`), `BENCH_INSTRUCTIONS` (set: also count instructions
//! with valgrind's callgrind, the stable measure on a noisy machine; slow, so use it with
//! `BENCH_PATIENTS=20000`).

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fhirforge_runtime::search::SearchParams;
use fhirforge_runtime::Client;
use futures::TryStreamExt;
use serde_json::Value;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        let mode = args.get(pos + 1).cloned().unwrap_or_default();
        let base = args.get(pos + 2).cloned().unwrap_or_default();
        child(&mode, &base);
        return;
    }
    if let Err(e) = parent() {
        eprintln!("paging bench failed: {e}");
        std::process::exit(1);
    }
}

/// Name, wall times (ms), peak RSS (kB), CPU times (ms) of one variant's runs.
type Series = (&'static str, Vec<f64>, Vec<u64>, Vec<u64>);

fn parent() -> Result<(), String> {
    let patients = env_usize("BENCH_PATIENTS", 100_000);
    let page_size = env_usize("BENCH_PAGE_SIZE", 100);
    let runs = env_usize("BENCH_RUNS", 7);
    let nginx = std::env::var("NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".to_owned());
    if !Path::new(&nginx).is_file() {
        return Err(format!(
            "{nginx} not found: run scripts/bench-paging.sh (installs nginx from Debian)"
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let bytes = write_pages(dir.path(), &base, patients, page_size)?;
    let _nginx = start_nginx(&nginx, dir.path(), port)?;
    wait_for(port)?;
    println!(
        "paging {patients} Patients, {page_size} per page ({} pages, {:.1} MB of JSON) from nginx on {base}",
        patients.div_ceil(page_size),
        bytes as f64 / 1e6
    );

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut results: Vec<Series> = vec![
        ("raw reqwest+serde_json", vec![], vec![], vec![]),
        ("fhirforge resources()", vec![], vec![], vec![]),
        ("fhirforge pages()", vec![], vec![], vec![]),
    ];
    // CPU time on a shared VM varies by +-10% from run to run; instruction counts do not, so
    // with BENCH_INSTRUCTIONS=1 each child runs under valgrind's callgrind (which counts
    // instructions without hardware counters, which VMs often lack) and the report compares
    // them too. Callgrind is about 50 times slower: use it with BENCH_PATIENTS=20000.
    let perf_out = dir.path().join("callgrind.out");
    let count_instructions = std::env::var_os("BENCH_INSTRUCTIONS").is_some();
    let mut instructions: [Vec<u64>; 3] = Default::default();
    // One warm-up run each (page cache, nginx workers), then alternate.
    for round in 0..=runs {
        for (i, mode) in ["raw", "fhirforge", "pages"].iter().enumerate() {
            let mut command = if count_instructions {
                let mut c = Command::new("valgrind");
                c.args(["--tool=callgrind", "--quiet"])
                    .arg(format!("--callgrind-out-file={}", perf_out.display()))
                    .arg(&exe);
                c
            } else {
                Command::new(&exe)
            };
            let out = command
                .args(["--child", mode, &base])
                .output()
                .map_err(|e| e.to_string())?;
            if count_instructions && round > 0 {
                // Every thread's file (`callgrind.out-02`, ...) or the one file: their totals.
                let mut n = 0u64;
                for entry in std::fs::read_dir(dir.path()).map_err(|e| e.to_string())? {
                    let path = entry.map_err(|e| e.to_string())?.path();
                    let name = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
                    if !name.starts_with("callgrind.out") {
                        continue;
                    }
                    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                    n += text
                        .lines()
                        .find_map(|l| l.strip_prefix("summary:").or(l.strip_prefix("totals:")))
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .ok_or_else(|| format!("no instruction total in {}", path.display()))?;
                    std::fs::remove_file(&path).map_err(|e| e.to_string())?;
                }
                instructions[i].push(n);
            }
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if !out.status.success() {
                return Err(format!(
                    "{mode} run failed: {text}{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            let mut fields = text.split_whitespace();
            let count: usize = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            let ms: f64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let rss_kb: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            let cpu: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            if count != patients {
                return Err(format!("{mode} read {count} patients, expected {patients}"));
            }
            if round > 0 {
                results[i].1.push(ms);
                results[i].2.push(rss_kb);
                results[i].3.push(cpu);
            }
        }
    }
    let mut report = String::new();
    for (name, times, rss, cpu) in &mut results {
        times.sort_by(f64::total_cmp);
        rss.sort_unstable();
        cpu.sort_unstable();
        let _ = writeln!(
            report,
            "{name:<24} wall median {:>8.1} ms (min {:.1}, max {:.1}, {} runs)  CPU median {} ms  peak RSS median {:.1} MB",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            times.len(),
            cpu[cpu.len() / 2],
            rss[rss.len() / 2] as f64 / 1024.0
        );
    }
    let raw_cpu = results[0].3[results[0].3.len() / 2] as f64;
    let our_cpu = results[1].3[results[1].3.len() / 2] as f64;
    let _ = writeln!(
        report,
        "CPU: fhirforge / raw = {:.3} ({:+.1}%)",
        our_cpu / raw_cpu,
        (our_cpu / raw_cpu - 1.0) * 100.0
    );
    let raw = results[0].1[results[0].1.len() / 2];
    let ours = results[1].1[results[1].1.len() / 2];
    let _ = writeln!(
        report,
        "wall: fhirforge / raw = {:.3} ({:+.1}%; target within 5%)",
        ours / raw,
        (ours / raw - 1.0) * 100.0
    );
    if count_instructions {
        let median = |v: &mut Vec<u64>| {
            v.sort_unstable();
            v[v.len() / 2] as f64
        };
        let raw = median(&mut instructions[0]);
        let ours = median(&mut instructions[1]);
        let pages = median(&mut instructions[2]);
        let _ = writeln!(
            report,
            "instructions (callgrind): raw {:.0}M, fhirforge resources() {:.0}M, pages() {:.0}M; fhirforge / raw = {:.3} ({:+.1}%)",
            raw / 1e6,
            ours / 1e6,
            pages / 1e6,
            ours / raw,
            (ours / raw - 1.0) * 100.0
        );
    }
    print!("{report}");
    Ok(())
}

/// One measured run in this process: prints `count elapsed_ms peak_rss_kb`.
fn child(mode: &str, base: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let count = rt.block_on(async {
        match mode {
            "raw" => raw(base).await,
            "pages" => fhirforge_pages(base).await,
            _ => fhirforge(base).await,
        }
    });
    let elapsed = start.elapsed();
    println!(
        "{count} {:.3} {} {}",
        elapsed.as_secs_f64() * 1000.0,
        peak_rss_kb(),
        cpu_ms()
    );
}

async fn fhirforge(base: &str) -> usize {
    let client = Client::builder(base).build().expect("client");
    let mut params = SearchParams::new();
    params.count(100);
    client
        .search("Patient", params)
        .resources()
        .try_fold(0usize, |n, r| async move {
            std::hint::black_box(&r);
            Ok(n + 1)
        })
        .await
        .expect("fhirforge paging")
}

/// The same through `pages()`, counting each page's matches without taking them out.
async fn fhirforge_pages(base: &str) -> usize {
    let client = Client::builder(base).build().expect("client");
    let mut params = SearchParams::new();
    params.count(100);
    client
        .search("Patient", params)
        .pages()
        .try_fold(0usize, |n, page| async move {
            Ok(n + std::hint::black_box(&page).matches().count())
        })
        .await
        .expect("fhirforge paging")
}

async fn raw(base: &str) -> usize {
    let http = reqwest::Client::new();
    let mut url = format!("{base}/Patient?_count=100");
    let mut count = 0;
    loop {
        let body = http
            .get(&url)
            .header("Accept", "application/fhir+json")
            .send()
            .await
            .expect("send")
            .error_for_status()
            .expect("status")
            .bytes()
            .await
            .expect("body");
        let mut page: Value = serde_json::from_slice(&body).expect("json");
        if let Some(entries) = page.get_mut("entry").and_then(Value::as_array_mut) {
            for entry in entries.drain(..) {
                if let Value::Object(mut e) = entry {
                    if let Some(r) = e.remove("resource") {
                        std::hint::black_box(&r);
                        count += 1;
                    }
                }
            }
        }
        let next = page["link"]
            .as_array()
            .and_then(|links| links.iter().find(|l| l["relation"] == "next"))
            .and_then(|l| l["url"].as_str())
            .map(str::to_owned);
        match next {
            Some(next) => url = next,
            None => return count,
        }
    }
}

/// User + system CPU time of this process, in ms (from `/proc/self/stat`, 10 ms ticks): less
/// sensitive than wall time to other work on a shared 2-core machine.
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`; utime and stime are fields 14 and 15 of the whole line.
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) * 10
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Writes `page-0.json` (served for `/Patient`) .. `page-N.json`, each linking to the next with
/// an absolute URL, as servers do. Returns the total size.
fn write_pages(dir: &Path, base: &str, patients: usize, page_size: usize) -> Result<u64, String> {
    let pages = patients.div_ceil(page_size);
    let mut total = 0u64;
    for p in 0..pages {
        let first = p * page_size;
        let last = (first + page_size).min(patients);
        let entries: Vec<Value> = (first..last)
            .map(|i| {
                serde_json::json!({
                    "fullUrl": format!("{base}/Patient/pat-{i}"),
                    "resource": {
                        "resourceType": "Patient",
                        "id": format!("pat-{i}"),
                        "meta": {"versionId": "1", "lastUpdated": "2026-01-01T00:00:00Z"},
                        "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": format!("MRN{i:08}")}],
                        "active": true,
                        "name": [{"use": "official", "family": format!("Family{}", i % 997), "given": ["Given", format!("G{}", i % 113)]}],
                        "telecom": [{"system": "phone", "value": format!("555-{:04}", i % 10_000), "use": "home"}],
                        "gender": if i % 2 == 0 { "female" } else { "male" },
                        "birthDate": format!("{}-{:02}-{:02}", 1930 + i % 90, 1 + i % 12, 1 + i % 28),
                        "address": [{"line": [format!("{} Main St", i % 500)], "city": "Springfield", "postalCode": format!("{:05}", i % 99_999), "country": "US"}]
                    },
                    "search": {"mode": "match"}
                })
            })
            .collect();
        let mut links = vec![
            serde_json::json!({"relation": "self", "url": format!("{base}/pages/page-{p}.json")}),
        ];
        if p + 1 < pages {
            links.push(serde_json::json!({"relation": "next", "url": format!("{base}/pages/page-{}.json", p + 1)}));
        }
        let bundle = serde_json::json!({
            "resourceType": "Bundle",
            "type": "searchset",
            "total": patients,
            "link": links,
            "entry": entries
        });
        let text = serde_json::to_vec(&bundle).map_err(|e| e.to_string())?;
        total += text.len() as u64;
        std::fs::create_dir_all(dir.join("pages")).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("pages").join(format!("page-{p}.json")), text)
            .map_err(|e| e.to_string())?;
    }
    Ok(total)
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_nginx(bin: &str, dir: &Path, port: u16) -> Result<Nginx, String> {
    let root = dir.display();
    let conf = format!(
        r#"worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    types {{ }}
    default_type application/fhir+json;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location = /Patient {{ alias {root}/pages/page-0.json; }}
        location /pages/ {{ }}
    }}
}}
"#
    );
    std::fs::create_dir_all(dir.join("tmp")).map_err(|e| e.to_string())?;
    let conf_path: PathBuf = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
    let child = Command::new(bin)
        // nginx reads `NGINX` as a list of inherited sockets; ours names its binary.
        .env_remove("NGINX")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf_path)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {bin}: {e}"))?;
    Ok(Nginx(child))
}

fn wait_for(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        // A blocking wait in a benchmark's setup, not in the client.
        #[allow(clippy::disallowed_methods, reason = "bench setup polling nginx start")]
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("nginx did not start listening within 10 s".to_owned())
}
