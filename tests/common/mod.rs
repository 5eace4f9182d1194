//! What the integration test files share: a temporary folder to run the real
//! binary in, and CSV reading.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

/// The parbench processes of one test binary take turns: a run judges other
/// load on the machine by its workers' waits for a CPU, and another test's
/// run or report (a bootstrap keeps a CPU busy) beside it would be that
/// load (entries "not judged (busy)" where a test wants a verdict). Test
/// binaries themselves run one after another.
static MEASURING: Mutex<()> = Mutex::new(());

thread_local! {
    /// Whether this thread holds the turn already: a test that takes it
    /// around load of its own and then runs parbench keeps it.
    static HELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The turn to measure, held until dropped.
pub struct Turn(Option<MutexGuard<'static, ()>>);

impl Drop for Turn {
    fn drop(&mut self) {
        if self.0.is_some() {
            HELD.with(|held| held.set(false));
        }
    }
}

/// The turn to measure, for a test that starts `parbench run` by other
/// means than [`Workdir::parbench`], or starts load of its own (a browser,
/// hogs); taken again by the thread that holds it, it is the same turn.
pub fn measuring() -> Turn {
    if HELD.with(|held| held.get()) {
        return Turn(None);
    }
    let guard = MEASURING.lock().unwrap_or_else(|poison| poison.into_inner());
    HELD.with(|held| held.set(true));
    Turn(Some(guard))
}

/// A temporary folder to write job files in and run parbench from.
pub struct Workdir {
    dir: TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir { dir: tempfile::tempdir().expect("a temporary folder") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
    }

    pub fn parbench(&self, args: &[&str]) -> Output {
        self.parbench_with(args, &[])
    }

    pub fn parbench_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let _turn = measuring();
        self.parbench_in_turn(args, env)
    }

    /// [`Workdir::parbench_with`] for a caller that holds [`measuring`]
    /// already (a test that starts load of its own first).
    pub fn parbench_in_turn(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::cargo_bin("parbench").unwrap();
        for (name, value) in env {
            command.env(name, value);
        }
        command.current_dir(self.path()).args(args).timeout(Duration::from_secs(120)).output().unwrap()
    }

    /// Every `.csv` file directly under `folder`, sorted.
    pub fn csv_files(&self, folder: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.path().join(folder))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "csv"))
            .collect();
        files.sort();
        files
    }

    /// Header-keyed rows of a CSV under this folder.
    pub fn rows(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        keyed_rows(&self.path().join(name))
    }
}

/// A CSV file as its header and rows of cells.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader.records().map(|record| record.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

/// Header-keyed rows of a CSV file.
pub fn keyed_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let (header, rows) = read_csv(path);
    rows.into_iter().map(|row| header.iter().cloned().zip(row).collect()).collect()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The repository's root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A per-run CSV (as text) with every row's `wall_s` replaced by what
/// `wall` says for that row (cells by column name); a row it gives `None`
/// for is left out. The times are made up, so no other load touched them:
/// `disturbed` reads `false` in every row, whatever the machine did while
/// the rows were first measured.
pub fn with_walls(text: &str, wall: impl Fn(&BTreeMap<String, String>) -> Option<f64>) -> String {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let column = header.iter().position(|name| name == "wall_s").expect("a per-run CSV has wall_s");
    let disturbed = header.iter().position(|name| name == "disturbed").expect("a per-run CSV has disturbed");
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).unwrap();
    for record in reader.records() {
        let mut cells: Vec<String> = record.unwrap().iter().map(str::to_owned).collect();
        let row: BTreeMap<String, String> = header.iter().cloned().zip(cells.iter().cloned()).collect();
        if let Some(seconds) = wall(&row) {
            cells[column] = format!("{seconds:.9}");
            cells[disturbed] = "false".to_owned();
            writer.write_record(&cells).unwrap();
        }
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}
