//! Bulk Data export benchmark: 1,000,000 Patients and Observations as NDJSON files served
//! statically by nginx over loopback, with a stub kick-off (`GET /$export` answered `202` with
//! a `Content-Location`) and status URL (`200` with a static manifest). The `fhirforge export`
//! release binary downloads them, and so does plain `curl` with the same parallelism, which is
//! the physical limit of this machine (loopback, page cache, disk writes).
//!
//! Run with `scripts/bench-bulk.sh` (installs nginx from Debian, builds the CLI in release,
//! then `cargo bench -p fhirforge-runtime --bench bulk`). Each run is a separate process under
//! GNU `time`, so its CPU time (user + sys) and peak RSS are its own; layouts and variants
//! alternate; the median of the runs is reported. The output directory is deleted between
//! runs, outside the timed part. The first round is a warm-up; its fhirforge output is compared
//! byte for byte with the served files.
//!
//! Layouts: `many` (files of `BENCH_PER_FILE` resources, as HAPI writes them) and `huge` (one
//! file per type: 800,000 Observations in one file of about 400 MB), to show the memory does
//! not grow with the file size.
//!
//! Variants: `fhirforge` (`export --base .. --no-check -q --out DIR`, default concurrency 4),
//! `curl` (`curl --parallel --parallel-max 4`, one process), `curl-seq` (curl, one file after
//! the other), and with `FHIRFORGE_BASELINE=PATH` also `baseline`: that other build of the CLI
//! (a copy of the binary before a change), so before and after run interleaved on the same
//! noisy machine.
//!
//! Environment: `BENCH_RUNS` (default 5), `BENCH_RESOURCES` (1000000; one in five is a
//! Patient), `BENCH_PER_FILE` (1000), `BENCH_LAYOUTS` (`many,huge`), `BENCH_VARIANTS`
//! (`fhirforge,curl,curl-seq`), `BENCH_DIR` (where the served files and the output go; a new
//! temporary directory by default), `FHIRFORGE_BIN` (default `target/release/fhirforge`),
//! `NGINX` (default `/usr/sbin/nginx`), `CURL` (`curl`), `TIME` (`/usr/bin/time`).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

fn env_string(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn main() {
    if let Err(e) = parent() {
        eprintln!("bulk bench failed: {e}");
        std::process::exit(1);
    }
}

/// One file served by nginx.
struct Served {
    resource_type: &'static str,
    /// `Patient.001.ndjson`: the name fhirforge gives it too.
    name: String,
    resources: u64,
    bytes: u64,
}

/// The files of one layout.
struct Layout {
    name: &'static str,
    files: Vec<Served>,
}

impl Layout {
    fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    fn resources(&self) -> u64 {
        self.files.iter().map(|f| f.resources).sum()
    }
}

/// One measured run.
#[derive(Clone, Copy)]
struct Run {
    wall_ms: f64,
    cpu_ms: f64,
    rss_kb: u64,
}

fn parent() -> Result<(), String> {
    let resources = env_usize("BENCH_RESOURCES", 1_000_000);
    let per_file = env_usize("BENCH_PER_FILE", 1000).max(1);
    let runs = env_usize("BENCH_RUNS", 5).max(1);
    let layouts_wanted = env_string("BENCH_LAYOUTS", "many,huge");
    let variants_wanted = env_string("BENCH_VARIANTS", "fhirforge,curl,curl-seq");
    let nginx = env_string("NGINX", "/usr/sbin/nginx");
    let curl = env_string("CURL", "curl");
    let time = env_string("TIME", "/usr/bin/time");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fhirforge = std::env::var_os("FHIRFORGE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/fhirforge"));
    for (what, path) in [("nginx", &nginx), ("GNU time", &time)] {
        if !Path::new(path).is_file() {
            return Err(format!(
                "{what} ({path}) not found: run scripts/bench-bulk.sh"
            ));
        }
    }
    let baseline = std::env::var_os("FHIRFORGE_BASELINE").map(PathBuf::from);
    let variants: Vec<&str> = ["fhirforge", "baseline", "curl", "curl-seq"]
        .into_iter()
        .filter(|v| {
            (*v == "baseline" && baseline.is_some())
                || variants_wanted.split(',').any(|w| w.trim() == *v)
        })
        .collect();
    if variants.contains(&"fhirforge") && !fhirforge.is_file() {
        return Err(format!(
            "{} not found: `cargo build --release -p fhirforge-cli` first (scripts/bench-bulk.sh does)",
            fhirforge.display()
        ));
    }

    let temp;
    let dir = match std::env::var_os("BENCH_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
            d
        }
        None => {
            temp = tempfile::tempdir().map_err(|e| e.to_string())?;
            temp.path().to_owned()
        }
    };
    let www = dir.join("www");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let host = format!("http://127.0.0.1:{port}");

    let mut names: Vec<&'static str> = ["many", "huge"]
        .into_iter()
        .filter(|l| layouts_wanted.split(',').any(|w| w.trim() == *l))
        .collect();
    if names.is_empty() {
        names.push("many");
    }
    let started = Instant::now();
    let layouts = write_layouts(&www, &host, &names, resources, per_file)?;
    eprintln!(
        "wrote {} layout(s) in {:.1} s",
        layouts.len(),
        started.elapsed().as_secs_f64()
    );
    let _nginx = start_nginx(&nginx, &dir, &www, port, &names)?;
    wait_for(port)?;
    check_range(&curl, &host, &www, &layouts[0], &dir)?;

    for layout in &layouts {
        let biggest = layout.files.iter().map(|f| f.bytes).max().unwrap_or(0);
        println!(
            "layout {:<5} {} resources in {} files, {:.1} MB (largest file {:.1} MB), from nginx on {host}/{}",
            layout.name,
            layout.resources(),
            layout.files.len(),
            layout.bytes() as f64 / 1e6,
            biggest as f64 / 1e6,
            layout.name,
        );
    }

    let out = dir.join("out");
    let timing = dir.join("time.txt");
    let mut results: Vec<Vec<Vec<Run>>> = vec![vec![Vec::new(); variants.len()]; layouts.len()];
    // Round 0 warms the page cache and nginx up and is checked, not counted.
    for round in 0..=runs {
        for (li, layout) in layouts.iter().enumerate() {
            for (vi, variant) in variants.iter().enumerate() {
                if out.exists() {
                    std::fs::remove_dir_all(&out).map_err(|e| e.to_string())?;
                }
                let mut command = Command::new(&time);
                command.args(["-f", "%U %S %M", "-o"]).arg(&timing);
                let base = format!("{host}/{}", layout.name);
                match *variant {
                    "fhirforge" | "baseline" => {
                        let bin = match (*variant, &baseline) {
                            ("baseline", Some(b)) => b,
                            _ => &fhirforge,
                        };
                        command
                            .arg(bin)
                            .args(["export", "--base", &base, "--no-check", "-q", "--out"])
                            .arg(&out);
                    }
                    _ => {
                        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
                        let config = dir.join("curl.cfg");
                        let mut text = String::new();
                        for f in &layout.files {
                            let _ = writeln!(
                                text,
                                "url = \"{base}/files/{}\"\noutput = \"{}\"",
                                f.name,
                                out.join(&f.name).display()
                            );
                        }
                        std::fs::write(&config, text).map_err(|e| e.to_string())?;
                        command.arg(&curl).args(["-s", "-S", "-f"]);
                        if *variant == "curl" {
                            command.args(["--parallel", "--parallel-max", "4"]);
                        }
                        command.arg("-K").arg(&config);
                    }
                }
                let start = Instant::now();
                let output = command.output().map_err(|e| e.to_string())?;
                let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
                let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
                if !output.status.success() {
                    return Err(format!(
                        "{variant} on {} failed: {stdout}{}",
                        layout.name,
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
                let (cpu_ms, rss_kb) = read_time(&timing)?;
                if matches!(*variant, "fhirforge" | "baseline") {
                    let exported = exported_count(&stdout);
                    if exported != Some(layout.resources()) {
                        return Err(format!(
                            "{variant} on {} reported {exported:?} resources, expected {}: {stdout}",
                            layout.name,
                            layout.resources()
                        ));
                    }
                }
                if round == 0 {
                    check_output(&www.join(layout.name).join("files"), &out, layout, variant)?;
                    eprintln!("{} / {variant}: output checked", layout.name);
                } else {
                    results[li][vi].push(Run {
                        wall_ms,
                        cpu_ms,
                        rss_kb,
                    });
                }
            }
        }
    }
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| e.to_string())?;
    }

    let mut report = String::new();
    let _ = writeln!(
        report,
        "{:<6} {:<10} {:>10} {:>10} {:>10} {:>11} {:>9} {:>12} {:>12}",
        "layout", "variant", "wall ms", "(min", "max)", "CPU ms", "RSS MB", "MB/s", "resources/s"
    );
    for (li, layout) in layouts.iter().enumerate() {
        let mut medians = Vec::new();
        for (vi, variant) in variants.iter().enumerate() {
            let series = &results[li][vi];
            let wall = median(series.iter().map(|r| r.wall_ms));
            let cpu = median(series.iter().map(|r| r.cpu_ms));
            let rss = median(series.iter().map(|r| r.rss_kb as f64)) / 1024.0;
            let rss_max = series.iter().map(|r| r.rss_kb).max().unwrap_or(0) as f64 / 1024.0;
            let min = series
                .iter()
                .map(|r| r.wall_ms)
                .fold(f64::INFINITY, f64::min);
            let max = series.iter().map(|r| r.wall_ms).fold(0.0, f64::max);
            let _ = writeln!(
                report,
                "{:<6} {:<10} {:>10.0} {:>10.0} {:>10.0} {:>11.0} {:>9.1} {:>12.0} {:>12.0}   (RSS max {rss_max:.1} MB, {} runs)",
                layout.name,
                variant,
                wall,
                min,
                max,
                cpu,
                rss,
                layout.bytes() as f64 / 1e6 / (wall / 1000.0),
                layout.resources() as f64 / (wall / 1000.0),
                series.len(),
            );
            medians.push((*variant, wall, cpu, rss_max));
        }
        let find = |name: &str| medians.iter().find(|m| m.0 == name).copied();
        if let (Some(ours), Some(base)) = (find("fhirforge"), find("baseline")) {
            let _ = writeln!(
                report,
                "{:<6} fhirforge / baseline: wall {:.2}x, CPU {:.2}x",
                layout.name,
                ours.1 / base.1,
                ours.2 / base.2,
            );
        }
        if let (Some(ours), Some(curl)) = (find("fhirforge"), find("curl")) {
            let _ = writeln!(
                report,
                "{:<6} fhirforge / curl: wall {:.2}x (target <= 1.5x), CPU {:.2}x; fhirforge peak RSS max {:.1} MB (target < 50 MB)",
                layout.name,
                ours.1 / curl.1,
                ours.2 / curl.2,
                ours.3,
            );
        }
    }
    print!("{report}");
    Ok(())
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// GNU time's `%U %S %M`: CPU ms (user + sys) and peak RSS in kB.
fn read_time(path: &Path) -> Result<(f64, u64), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    // A failed command adds a "Command exited with non-zero status" line first.
    let line = text.lines().last().unwrap_or_default();
    let mut fields = line.split_whitespace();
    let mut next = || fields.next().and_then(|v| v.parse::<f64>().ok());
    match (next(), next(), next()) {
        (Some(user), Some(sys), Some(rss)) => Ok(((user + sys) * 1000.0, rss as u64)),
        _ => Err(format!("cannot read GNU time's output {text:?}")),
    }
}

/// `exported 1,000,000 resources in ...` from the CLI's summary.
fn exported_count(stdout: &str) -> Option<u64> {
    let rest = stdout.split("exported ").nth(1)?;
    rest.split_whitespace()
        .next()?
        .replace(',', "")
        .parse()
        .ok()
}

/// The output holds exactly the served files, byte for byte (fhirforge also writes its
/// `job.json` and `manifest.json`).
fn check_output(served: &Path, out: &Path, layout: &Layout, variant: &str) -> Result<(), String> {
    for f in &layout.files {
        if !same_bytes(&served.join(&f.name), &out.join(&f.name))? {
            return Err(format!(
                "{variant}: {} differs from the served file",
                f.name
            ));
        }
    }
    let extra: Vec<String> = std::fs::read_dir(out)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            !layout.files.iter().any(|f| &f.name == n) && n != "job.json" && n != "manifest.json"
        })
        .collect();
    if !extra.is_empty() {
        return Err(format!(
            "{variant}: unexpected files in the output: {extra:?}"
        ));
    }
    Ok(())
}

fn same_bytes(a: &Path, b: &Path) -> Result<bool, String> {
    let open = |p: &Path| File::open(p).map_err(|e| format!("{}: {e}", p.display()));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = read_full(&mut fa, &mut ba)?;
        let nb = read_full(&mut fb, &mut bb)?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> Result<usize, String> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]).map_err(|e| e.to_string())? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// nginx answers a range request on a static file with `206` and just those bytes (not used by
/// the benchmark; fhirforge resumes cut downloads that way).
fn check_range(
    curl: &str,
    host: &str,
    www: &Path,
    layout: &Layout,
    dir: &Path,
) -> Result<(), String> {
    let f = &layout.files[0];
    let got = dir.join("range.bin");
    let out = Command::new(curl)
        .args(["-s", "-r", "100-199", "-w", "%{http_code}", "-o"])
        .arg(&got)
        .arg(format!("{host}/{}/files/{}", layout.name, f.name))
        .output()
        .map_err(|e| format!("cannot run {curl}: {e}"))?;
    let code = String::from_utf8_lossy(&out.stdout).into_owned();
    let body = std::fs::read(&got).map_err(|e| e.to_string())?;
    let file = std::fs::read(www.join(layout.name).join("files").join(&f.name))
        .map_err(|e| e.to_string())?;
    if code != "206" || body != file[100..200] {
        return Err(format!(
            "Range on nginx static files: got {code}, {} bytes",
            body.len()
        ));
    }
    println!("Range works on the served files (bytes=100-199 answered 206 with those 100 bytes)");
    Ok(())
}

/// Writes every layout's files, each from the same resources in the same order: a Patient
/// then four Observations about that patient.
fn write_layouts(
    www: &Path,
    host: &str,
    names: &[&'static str],
    resources: usize,
    per_file: usize,
) -> Result<Vec<Layout>, String> {
    let patients = resources / 5;
    let observations = resources - patients;
    // Per layout and type: the open file and its counts.
    struct Open {
        out: BufWriter<File>,
        served: Served,
    }
    let mut layouts = Vec::new();
    let mut open: Vec<[Option<Open>; 2]> = Vec::new();
    for name in names {
        std::fs::create_dir_all(www.join(name).join("files")).map_err(|e| e.to_string())?;
        layouts.push(Layout {
            name,
            files: Vec::new(),
        });
        open.push([None, None]);
    }
    let mut line = Vec::with_capacity(4096);
    let types = ["Patient", "Observation"];
    let totals = [patients, observations];
    let mut written = [0usize; 2];
    let mut number = vec![[0u32; 2]; names.len()];
    let mut p = 0usize;
    let mut o = 0usize;
    while p < patients || o < observations {
        for t in 0..2 {
            let count = if t == 0 { 1 } else { 4 };
            for _ in 0..count {
                if written[t] >= totals[t] {
                    continue;
                }
                line.clear();
                let value = if t == 0 {
                    p += 1;
                    patient(p - 1)
                } else {
                    o += 1;
                    observation(o - 1, (o - 1) / 4)
                };
                serde_json::to_writer(&mut line, &value).map_err(|e| e.to_string())?;
                line.push(b'\n');
                for (li, layout) in layouts.iter_mut().enumerate() {
                    let limit = if layout.name == "huge" {
                        usize::MAX
                    } else {
                        per_file
                    };
                    let full = open[li][t]
                        .as_ref()
                        .is_some_and(|f| f.served.resources as usize >= limit);
                    if full {
                        if let Some(mut f) = open[li][t].take() {
                            f.out.flush().map_err(|e| e.to_string())?;
                            layout.files.push(f.served);
                        }
                    }
                    if open[li][t].is_none() {
                        number[li][t] += 1;
                        let name = format!("{}.{:03}.ndjson", types[t], number[li][t]);
                        let path = www.join(layout.name).join("files").join(&name);
                        let file = File::create(&path).map_err(|e| e.to_string())?;
                        open[li][t] = Some(Open {
                            out: BufWriter::with_capacity(1 << 20, file),
                            served: Served {
                                resource_type: types[t],
                                name,
                                resources: 0,
                                bytes: 0,
                            },
                        });
                    }
                    if let Some(f) = open[li][t].as_mut() {
                        f.out.write_all(&line).map_err(|e| e.to_string())?;
                        f.served.resources += 1;
                        f.served.bytes += line.len() as u64;
                    }
                }
                written[t] += 1;
            }
        }
    }
    for (li, layout) in layouts.iter_mut().enumerate() {
        for slot in open[li].iter_mut() {
            if let Some(mut f) = slot.take() {
                f.out.flush().map_err(|e| e.to_string())?;
                layout.files.push(f.served);
            }
        }
        // Manifest order: every Patient file, then every Observation file.
        layout
            .files
            .sort_by_key(|f| (f.resource_type != "Patient", f.name.clone()));
        let base = format!("{host}/{}", layout.name);
        let output: Vec<Value> = layout
            .files
            .iter()
            .map(|f| {
                json!({
                    "type": f.resource_type,
                    "url": format!("{base}/files/{}", f.name),
                    "count": f.resources,
                })
            })
            .collect();
        let manifest = json!({
            "transactionTime": "2026-01-01T00:00:00Z",
            "request": format!("{base}/$export"),
            "requiresAccessToken": false,
            "output": output,
            "error": [],
        });
        std::fs::write(
            www.join(layout.name).join("manifest.json"),
            serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(layouts)
}

const FAMILIES: &[&str] = &[
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
    "Hernandez",
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
    "Sanchez",
];
const GIVEN: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
];
const GENDERS: [&str; 4] = ["female", "male", "other", "unknown"];
const CITIES: &[(&str, &str, &str)] = &[
    ("Springfield", "IL", "627"),
    ("Madison", "WI", "537"),
    ("Portland", "OR", "972"),
    ("Burlington", "VT", "054"),
    ("Austin", "TX", "787"),
    ("Columbus", "OH", "432"),
    ("Raleigh", "NC", "276"),
];

/// A Patient of 400 to 900 bytes, fields varying with `i`.
fn patient(i: usize) -> Value {
    let family = FAMILIES[i % FAMILIES.len()];
    let given = GIVEN[(i / 7) % GIVEN.len()];
    let (city, state, zip) = CITIES[(i / 3) % CITIES.len()];
    let mut names = vec![json!({
        "use": "official",
        "family": family,
        "given": [given, GIVEN[(i / 11) % GIVEN.len()]],
    })];
    if i.is_multiple_of(4) {
        names.push(json!({"use": "nickname", "given": [&given[..given.len().min(4)]]}));
    }
    let mut telecom = vec![json!({
        "system": "phone",
        "value": format!("555-{:03}-{:04}", i % 1000, (i * 7) % 10_000),
        "use": "home",
    })];
    if i.is_multiple_of(3) {
        telecom.push(json!({
            "system": "email",
            "value": format!("{}.{}{}@example.org", given.to_lowercase(), family.to_lowercase(), i % 100),
        }));
    }
    let mut p = json!({
        "resourceType": "Patient",
        "id": format!("pat-{i}"),
        "meta": {"versionId": format!("{}", 1 + i % 3), "lastUpdated": format!("2025-{:02}-{:02}T{:02}:{:02}:00Z", 1 + i % 12, 1 + i % 28, i % 24, i % 60)},
        "identifier": [{
            "use": "usual",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "system": "urn:oid:1.2.36.146.595.217.0.1",
            "value": format!("MRN{i:08}"),
        }],
        "active": !i.is_multiple_of(17),
        "name": names,
        "telecom": telecom,
        "gender": GENDERS[i % 4],
        "birthDate": format!("{}-{:02}-{:02}", 1930 + i % 90, 1 + i % 12, 1 + i % 28),
        "address": [{
            "use": "home",
            "line": [format!("{} {} St", 1 + i % 9000, FAMILIES[(i / 5) % FAMILIES.len()])],
            "city": city,
            "state": state,
            "postalCode": format!("{zip}{:02}", i % 100),
            "country": "US",
        }],
    });
    if i.is_multiple_of(50) {
        p["deceasedDateTime"] = json!(format!("2024-{:02}-01", 1 + i % 12));
    }
    if i.is_multiple_of(5) {
        p["maritalStatus"] = json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M", "display": "Married"}]});
    }
    p
}

/// An Observation of 400 to 900 bytes: a vital sign, a blood pressure with components, or a
/// lab result with a note.
fn observation(i: usize, patient: usize) -> Value {
    let effective = format!(
        "2025-{:02}-{:02}T{:02}:{:02}:00Z",
        1 + i % 12,
        1 + i % 28,
        i % 24,
        (i * 7) % 60
    );
    let mut o = json!({
        "resourceType": "Observation",
        "id": format!("obs-{i}"),
        "meta": {"versionId": "1", "lastUpdated": effective},
        "status": if i.is_multiple_of(23) { "amended" } else { "final" },
        "subject": {"reference": format!("Patient/pat-{patient}")},
        "effectiveDateTime": effective,
    });
    let category = |code: &str, display: &str| json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": code, "display": display}]}]);
    match i % 4 {
        0 => {
            o["category"] = category("vital-signs", "Vital Signs");
            o["code"] = json!({"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}], "text": "Heart rate"});
            o["valueQuantity"] = json!({"value": 50 + i % 70, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"});
        }
        1 => {
            o["category"] = category("vital-signs", "Vital Signs");
            o["code"] = json!({"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel with all children optional"}]});
            let component = |code: &str, display: &str, value: usize| {
                json!({"code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
                       "valueQuantity": {"value": value, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}})
            };
            o["component"] = json!([
                component("8480-6", "Systolic blood pressure", 100 + i % 60),
                component("8462-4", "Diastolic blood pressure", 60 + i % 35),
            ]);
        }
        2 => {
            o["category"] = category("laboratory", "Laboratory");
            o["code"] = json!({"coding": [{"system": "http://loinc.org", "code": "2339-0", "display": "Glucose [Mass/volume] in Blood"}]});
            o["valueQuantity"] = json!({"value": (70 + i % 130) as f64 + (i % 10) as f64 / 10.0, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"});
            o["referenceRange"] = json!([{"low": {"value": 70, "unit": "mg/dL"}, "high": {"value": 140, "unit": "mg/dL"}}]);
            if i.is_multiple_of(3) {
                o["interpretation"] = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "H", "display": "High"}]}]);
            }
        }
        _ => {
            o["category"] = category("laboratory", "Laboratory");
            o["code"] = json!({"coding": [{"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin [Mass/volume] in Blood"}]});
            o["valueQuantity"] = json!({"value": (11 + i % 7) as f64 + (i % 10) as f64 / 10.0, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"});
            let words = 3 + i % 25;
            let note: Vec<&str> = (0..words)
                .map(|w| {
                    [
                        "sample",
                        "hemolyzed",
                        "repeat",
                        "fasting",
                        "ordered",
                        "by",
                        "clinic",
                        "confirmed",
                    ][(i + w) % 8]
                })
                .collect();
            o["note"] = json!([{"text": note.join(" ")}]);
        }
    }
    o
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Per layout: the kick-off `GET /L/$export` is answered `202` with the status URL, the
/// status URL `200` with the manifest (`202` to the final `DELETE`), the files statically.
fn start_nginx(
    bin: &str,
    dir: &Path,
    www: &Path,
    port: u16,
    layouts: &[&str],
) -> Result<Nginx, String> {
    let root = dir.display();
    let www = www.display();
    let mut locations = String::new();
    for l in layouts {
        let _ = write!(
            locations,
            r#"
        location = "/{l}/$export" {{
            add_header Content-Location "http://127.0.0.1:{port}/{l}/status/1" always;
            return 202;
        }}
        location = /{l}/status/1 {{
            if ($request_method = DELETE) {{ return 202; }}
            default_type application/json;
            alias {www}/{l}/manifest.json;
        }}
        location /{l}/files/ {{ }}"#
        );
    }
    let conf = format!(
        r#"worker_processes 1;
# One process: killing the child stops nginx (a master killed by signal 9 would leave its
# worker serving).
master_process off;
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
    default_type application/fhir+ndjson;
    server {{
        listen 127.0.0.1:{port};
        root {www};{locations}
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
