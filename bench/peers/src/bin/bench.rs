//! The peers benchmark driver (run by `scripts/bench-peers.sh`): writes N Patients as static
//! searchset pages, serves them with its own nginx on a free loopback port, and runs every
//! variant as a child process, interleaved (one warm-up round, then `BENCH_RUNS` rounds), each
//! writing NDJSON to a file. Wall time is measured around the child; CPU time (user + sys) and
//! peak RSS come from the child's own `rusage` (`wait4`), so they cover all its threads and
//! nothing else. Every output file's line count is checked against N.
//!
//! Environment: `BENCH_PATIENTS` (100000), `BENCH_PAGE_SIZE` (100), `BENCH_RUNS` (5),
//! `BENCH_VARIANTS` (comma list, default `fhirforge,raw,fhirsdk,fhirpy,requests`), `NGINX`
//! (`/usr/sbin/nginx`), `FHIRFORGE` (the release CLI), `BENCH_PYTHON` (the venv's python),
//! `BENCH_SERVE` (set: only serve the pages, print the base URL, stop when stdin closes).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read as _, Write as _};
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench-peers: {e}");
        std::process::exit(1);
    }
}

/// One variant: its name and how to start it against a base URL.
struct Variant {
    name: &'static str,
    command: Box<dyn Fn(&str) -> Command>,
    wall_ms: Vec<f64>,
    cpu_ms: Vec<f64>,
    rss_kb: Vec<u64>,
}

fn run() -> Result<()> {
    let patients = env_usize("BENCH_PATIENTS", 100_000);
    let page_size = env_usize("BENCH_PAGE_SIZE", 100);
    let runs = env_usize("BENCH_RUNS", 5).max(1);
    let wanted = std::env::var("BENCH_VARIANTS")
        .unwrap_or_else(|_| "fhirforge,raw,fhirsdk,fhirpy,requests".to_owned());
    let nginx = std::env::var("NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..");
    let fhirforge = std::env::var_os("FHIRFORGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/fhirforge"));
    let python = std::env::var_os("BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join(".venv/bin/python"));
    let bin_dir = std::env::current_exe()?
        .parent()
        .ok_or("no directory for the bench binary")?
        .to_path_buf();

    let mut variants = Vec::new();
    for name in wanted.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let (name, command): (&'static str, Box<dyn Fn(&str) -> Command>) = match name {
            "fhirforge" => {
                let exe = fhirforge.clone();
                (
                    "fhirforge CLI",
                    Box::new(move |base: &str| {
                        let mut c = Command::new(&exe);
                        c.args(["search", "Patient", "_count=100", "--all", "--ndjson", "-q"])
                            .args(["--no-check", "--max-pages", "100000000", "--base", base]);
                        c
                    }),
                )
            }
            "raw" => {
                let exe = bin_dir.join("raw");
                (
                    "raw reqwest+serde_json",
                    Box::new(move |base: &str| {
                        let mut c = Command::new(&exe);
                        c.arg(base);
                        c
                    }),
                )
            }
            "fhirsdk" => {
                let exe = bin_dir.join("fhirsdk");
                (
                    "fhir-sdk 0.16 (R4B)",
                    Box::new(move |base: &str| {
                        let mut c = Command::new(&exe);
                        c.arg(base);
                        c
                    }),
                )
            }
            "fhirsdk-all-matches" => {
                let exe = bin_dir.join("fhirsdk");
                (
                    "fhir-sdk all_matches()",
                    Box::new(move |base: &str| {
                        let mut c = Command::new(&exe);
                        c.args([base, "all-matches"]);
                        c
                    }),
                )
            }
            "fhirpy" | "requests" => {
                let py = python.clone();
                let script = manifest.join(format!("python/{name}_peer.py"));
                let label = if name == "fhirpy" {
                    "fhirpy (async)"
                } else {
                    "python requests"
                };
                (
                    label,
                    Box::new(move |base: &str| {
                        let mut c = Command::new(&py);
                        c.arg(&script).arg(base).env("PYTHONUTF8", "1");
                        c
                    }),
                )
            }
            other => return Err(format!("unknown variant {other}").into()),
        };
        variants.push(Variant {
            name,
            command,
            wall_ms: vec![],
            cpu_ms: vec![],
            rss_kb: vec![],
        });
    }
    if !Path::new(&nginx).is_file() {
        return Err(format!("{nginx} not found (scripts/bench-peers.sh installs it)").into());
    }

    let dir = tempfile::Builder::new().prefix("bench-peers").tempdir()?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let (bytes, resource_bytes) = write_pages(dir.path(), &base, patients, page_size)?;
    let per_patient = resource_bytes / patients.max(1) as u64;
    eprintln!(
        "wrote {patients} Patients ({per_patient} bytes each on average), {page_size} per page ({} pages, {:.1} MB of JSON) in {:.1} s",
        patients.div_ceil(page_size),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let _nginx = start_nginx(&nginx, dir.path(), port)?;
    wait_for(port)?;
    if std::env::var_os("BENCH_SERVE").is_some() {
        // For profiling one client by hand: serve the pages until stdin closes.
        println!("{base}");
        std::io::stdout().flush()?;
        std::io::copy(&mut std::io::stdin(), &mut std::io::sink())?;
        return Ok(());
    }
    let load_before = loadavg();

    let out_path = dir.path().join("out.ndjson");
    let err_path = dir.path().join("err.txt");
    for round in 0..=runs {
        for v in &mut variants {
            let mut command = (v.command)(&base);
            command
                .stdin(Stdio::null())
                .stdout(File::create(&out_path)?)
                .stderr(File::create(&err_path)?);
            let (wall, status, cpu, rss) = measure(command)?;
            if !status.success() {
                let mut err = String::new();
                File::open(&err_path)?.read_to_string(&mut err)?;
                return Err(format!("{} failed ({status}): {err}", v.name).into());
            }
            let lines = count_lines(&out_path)?;
            if lines != patients {
                return Err(format!("{} wrote {lines} lines, expected {patients}", v.name).into());
            }
            std::fs::remove_file(&out_path)?;
            eprintln!(
                "round {round}{} {:<24} wall {:>8.0} ms  CPU {:>8.0} ms  peak RSS {:>7.1} MB",
                if round == 0 { " (warm-up)" } else { "" },
                v.name,
                wall,
                cpu,
                rss as f64 / 1024.0
            );
            if round > 0 {
                v.wall_ms.push(wall);
                v.cpu_ms.push(cpu);
                v.rss_kb.push(rss);
            }
        }
    }

    let load_after = loadavg();
    let mut report = String::new();
    writeln!(
        report,
        "{patients} Patients ({per_patient} bytes each on average), {page_size} per page, {:.1} MB of JSON from nginx on loopback; \
         median of {runs} interleaved runs after one warm-up; 1-min load average {load_before} before, {load_after} after; every output checked: {patients} lines\n",
        bytes as f64 / 1e6
    )?;
    writeln!(
        report,
        "| variant | wall median (min–max) | CPU user+sys median (min–max) | peak RSS median |"
    )?;
    writeln!(report, "|---|---:|---:|---:|")?;
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    for v in &variants {
        let (w, wmin, wmax) = median(&v.wall_ms);
        let (c, cmin, cmax) = median(&v.cpu_ms);
        let mut rss = v.rss_kb.clone();
        rss.sort_unstable();
        writeln!(
            report,
            "| {} | {:.0} ms ({:.0}–{:.0}) | {:.0} ms ({:.0}–{:.0}) | {:.1} MB |",
            v.name,
            w,
            wmin,
            wmax,
            c,
            cmin,
            cmax,
            rss[rss.len() / 2] as f64 / 1024.0
        )?;
    }
    let cpu_of = |prefix: &str| {
        variants
            .iter()
            .find(|v| v.name.starts_with(prefix))
            .map(|v| median(&v.cpu_ms).0)
    };
    let wall_of = |prefix: &str| {
        variants
            .iter()
            .find(|v| v.name.starts_with(prefix))
            .map(|v| median(&v.wall_ms).0)
    };
    writeln!(report)?;
    if let (Some(ours), Some(raw)) = (cpu_of("fhirforge"), cpu_of("raw")) {
        writeln!(
            report,
            "CPU fhirforge / raw = {:.2} (target ≤ 1.3)",
            ours / raw
        )?;
    }
    if let (Some(ours), Some(raw)) = (wall_of("fhirforge"), wall_of("raw")) {
        writeln!(report, "wall fhirforge / raw = {:.2}", ours / raw)?;
    }
    for peer in ["fhirpy", "python requests", "fhir-sdk"] {
        if let (Some(ours), Some(theirs)) = (cpu_of("fhirforge"), cpu_of(peer)) {
            let target = if peer == "fhirpy" {
                " (target ≥ 20)"
            } else {
                ""
            };
            writeln!(
                report,
                "CPU {peer} / fhirforge = {:.1}{target}",
                theirs / ours
            )?;
        }
        if let (Some(ours), Some(theirs)) = (wall_of("fhirforge"), wall_of(peer)) {
            writeln!(report, "wall {peer} / fhirforge = {:.1}", theirs / ours)?;
        }
    }
    print!("{report}");
    Ok(())
}

/// Runs `command` to its end: wall time (ms), exit status, user + sys CPU time (ms) and peak
/// RSS (kB) of that child alone, from `wait4`.
fn measure(mut command: Command) -> Result<(f64, std::process::ExitStatus, f64, u64)> {
    let start = Instant::now();
    let child = command.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value, and `wait4` writes into both out-pointers,
    // which point to live locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64() * 1000.0;
    if reaped != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()).into());
    }
    // The child is reaped: `Child` must not wait for it again.
    std::mem::forget(child);
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    let cpu = ms(usage.ru_utime) + ms(usage.ru_stime);
    Ok((
        wall,
        std::process::ExitStatus::from_raw(status),
        cpu,
        usage.ru_maxrss as u64,
    ))
}

fn count_lines(path: &Path) -> Result<usize> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

/// A small deterministic generator, so every run serves the same pages.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const FAMILY: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernández",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sánchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Nguyen",
    "O'Brien",
    "Müller",
    "Kowalski",
    "Okafor",
];
const GIVEN_F: &[&str] = &[
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Lisa",
    "Nancy",
    "Betty",
    "Sandra",
    "Ashley",
    "Emily",
    "Chloé",
    "Amara",
    "Zoë",
];
const GIVEN_M: &[&str] = &[
    "James",
    "Robert",
    "John",
    "Michael",
    "David",
    "William",
    "Richard",
    "Joseph",
    "Thomas",
    "Christopher",
    "Charles",
    "Daniel",
    "Matthew",
    "Anthony",
    "Mark",
    "José",
    "Kwame",
    "Liam",
];
const STREET: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Park Blvd",
    "Elm St",
    "Washington Ave",
    "Lakeview Rd",
    "Hillcrest Way",
    "River Rd",
    "Sunset Blvd",
    "Pine Ct",
];
const CITY: &[(&str, &str, &str)] = &[
    ("Madison", "WI", "537"),
    ("Springfield", "IL", "627"),
    ("Verona", "WI", "535"),
    ("Kansas City", "MO", "641"),
    ("Rochester", "MN", "559"),
    ("Boston", "MA", "021"),
    ("Portland", "OR", "972"),
    ("Austin", "TX", "787"),
    ("Nashville", "TN", "372"),
    ("Cleveland", "OH", "441"),
];

/// One Patient of a few hundred bytes, varied as real ones are: one or two names, optional
/// phones and email, one or two addresses, sometimes marital status, language, birth sex,
/// a deceased flag, a general practitioner.
fn patient(i: usize) -> Value {
    let mut r = Rng::new(i as u64 + 1);
    let female = r.chance(51);
    let family = r.pick(FAMILY);
    let given = if female {
        r.pick(GIVEN_F)
    } else {
        r.pick(GIVEN_M)
    };
    let mut given_names = vec![given];
    if r.chance(40) {
        given_names.push(if female {
            r.pick(GIVEN_F)
        } else {
            r.pick(GIVEN_M)
        });
    }
    let mut names = vec![json!({"use": "official", "family": family, "given": given_names})];
    if r.chance(15) {
        names.push(json!({"use": "usual", "given": [given.chars().take(3).collect::<String>()]}));
    }
    let mut telecom = vec![json!({
        "system": "phone",
        "value": format!("({:03}) {:03}-{:04}", 200 + r.below(800), r.below(1000), r.below(10_000)),
        "use": if r.chance(60) { "home" } else { "mobile" }
    })];
    if r.chance(45) {
        telecom.push(json!({
            "system": "email",
            "value": format!("{}.{}{}@example.org", given.to_lowercase(), family.to_lowercase(), r.below(100)),
            "use": "home"
        }));
    }
    let (city, state, zip) = CITY[r.below(CITY.len() as u64) as usize];
    let mut addresses = vec![json!({
        "use": "home",
        "line": [format!("{} {}", 1 + r.below(9999), r.pick(STREET))],
        "city": city,
        "state": state,
        "postalCode": format!("{zip}{:02}", r.below(100)),
        "country": "US"
    })];
    if r.chance(10) {
        addresses.push(json!({
            "use": "old",
            "line": [format!("{} {}", 1 + r.below(9999), r.pick(STREET)), format!("Apt {}", 1 + r.below(40))],
            "city": city,
            "state": state,
            "postalCode": format!("{zip}{:02}", r.below(100)),
            "period": {"end": format!("{}-{:02}-01", 2005 + r.below(18), 1 + r.below(12))}
        }));
    }
    let mut p = json!({
        "resourceType": "Patient",
        "id": format!("e{:016x}", (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)),
        "meta": {"versionId": (1 + r.below(4)).to_string(), "lastUpdated": format!("2025-{:02}-{:02}T{:02}:{:02}:{:02}Z", 1 + r.below(12), 1 + r.below(28), r.below(24), r.below(60), r.below(60))},
        "identifier": [
            {"use": "usual", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}, "system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14", "value": format!("E{:07}", i)}
        ],
        "active": r.chance(95),
        "name": names,
        "telecom": telecom,
        "gender": if female { "female" } else { "male" },
        "birthDate": format!("{}-{:02}-{:02}", 1925 + r.below(99), 1 + r.below(12), 1 + r.below(28)),
        "address": addresses,
    });
    let obj = p.as_object_mut().expect("object");
    if r.chance(30) {
        obj.insert(
            "extension".into(),
            json!([{
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
                "valueCode": if female { "F" } else { "M" }
            }]),
        );
    }
    if r.chance(5) {
        obj.insert("deceasedBoolean".into(), json!(true));
    }
    if r.chance(50) {
        let (code, text) = [
            ("M", "Married"),
            ("S", "Never Married"),
            ("D", "Divorced"),
            ("W", "Widowed"),
        ][r.below(4) as usize];
        obj.insert("maritalStatus".into(), json!({
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": code, "display": text}],
            "text": text
        }));
    }
    if r.chance(35) {
        let (code, text) = [
            ("en", "English"),
            ("es", "Spanish"),
            ("vi", "Vietnamese"),
            ("zh", "Chinese"),
        ][r.below(4) as usize];
        obj.insert("communication".into(), json!([{
            "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": code, "display": text}], "text": text},
            "preferred": true
        }]));
    }
    if r.chance(60) {
        obj.insert(
            "generalPractitioner".into(),
            json!([{
                "reference": format!("Practitioner/p{}", r.below(500)),
                "display": format!("Dr. {}", r.pick(FAMILY))
            }]),
        );
    }
    p
}

/// Writes `pages/0.json` (also served for `/Patient`, whatever the query) .. `pages/N.json`,
/// each linking to the next with an absolute URL, as servers do. Returns the total size and the
/// size of the Patients alone (compact JSON).
fn write_pages(dir: &Path, base: &str, patients: usize, page_size: usize) -> Result<(u64, u64)> {
    let pages = patients.div_ceil(page_size).max(1);
    std::fs::create_dir_all(dir.join("pages"))?;
    let (mut total, mut resources) = (0u64, 0u64);
    for p in 0..pages {
        let first = p * page_size;
        let last = (first + page_size).min(patients);
        let entries: Vec<Value> = (first..last)
            .map(|i| {
                let resource = patient(i);
                resources += resource.to_string().len() as u64;
                json!({
                    "fullUrl": format!("{base}/Patient/{}", resource["id"].as_str().unwrap_or_default()),
                    "resource": resource,
                    "search": {"mode": "match"}
                })
            })
            .collect();
        let self_url = if p == 0 {
            format!("{base}/Patient?_count={page_size}")
        } else {
            format!("{base}/pages/{p}.json")
        };
        let mut links = vec![json!({"relation": "self", "url": self_url})];
        if p + 1 < pages {
            links.push(json!({"relation": "next", "url": format!("{base}/pages/{}.json", p + 1)}));
        }
        let bundle = json!({
            "resourceType": "Bundle",
            "id": format!("page-{p}"),
            "type": "searchset",
            "total": patients,
            "link": links,
            "entry": entries
        });
        let mut file = BufWriter::new(File::create(dir.join("pages").join(format!("{p}.json")))?);
        serde_json::to_writer(&mut file, &bundle)?;
        file.flush()?;
        total += file.get_ref().metadata()?.len();
    }
    Ok((total, resources))
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_nginx(bin: &str, dir: &Path, port: u16) -> Result<Nginx> {
    let root = dir.display();
    let conf = format!(
        r#"worker_processes 1;
# One process: killing the child stops nginx (a master killed by signal 9 leaves its worker
# serving, seen after earlier runs).
master_process off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
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
        # Each client's own search request (`GET /Patient?...`, any query) gets the first page.
        location = /Patient {{ alias {root}/pages/0.json; }}
        location /pages/ {{ }}
    }}
}}
"#
    );
    std::fs::create_dir_all(dir.join("tmp"))?;
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
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

fn wait_for(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("nginx did not start listening within 10 s".into())
}
