//! Is this machine fit to measure on? The checks pyperf (`pyperf system
//! show`) and Google Benchmark make before they trust a timing: a CPU
//! frequency governor other than `performance` lets the clock wander with
//! the load, turbo makes it depend on temperature and on the other cores, a
//! busy machine lends the run's CPUs to others, and a debug build measures
//! parbench's own overhead more than the workload.

use std::path::Path;

/// What the checks found, read from `/sys` and `/proc` at the start of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Checks {
    /// The scaling governors of the CPUs, each once (`["powersave"]`); empty
    /// where the kernel exposes none (many VMs and containers).
    pub governors: Vec<String>,
    /// `Some(true)` when turbo/boost is on, `None` where it cannot be read.
    pub turbo: Option<bool>,
    /// The 1-minute load average at the start, and the CPUs it is held to.
    pub load_average: Option<f64>,
    pub cpus: usize,
    pub debug_build: bool,
}

impl Checks {
    /// Reads the machine at `root` (`/` but in tests).
    pub fn read(root: &Path, cpus: usize) -> Checks {
        let read =
            |path: &str| std::fs::read_to_string(root.join(path)).ok().map(|text| text.trim().to_owned());
        let mut governors: Vec<String> = std::fs::read_dir(root.join("sys/devices/system/cpu"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.strip_prefix("cpu")
                    .is_some_and(|number| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
            })
            .filter_map(|entry| std::fs::read_to_string(entry.path().join("cpufreq/scaling_governor")).ok())
            .map(|governor| governor.trim().to_owned())
            .collect();
        governors.sort();
        governors.dedup();
        // intel_pstate says "no turbo"; acpi-cpufreq and amd-pstate say "boost".
        let turbo = match (
            read("sys/devices/system/cpu/intel_pstate/no_turbo"),
            read("sys/devices/system/cpu/cpufreq/boost"),
        ) {
            (Some(no_turbo), _) => Some(no_turbo == "0"),
            (None, Some(boost)) => Some(boost == "1"),
            (None, None) => None,
        };
        let load_average = read("proc/loadavg")
            .and_then(|text| text.split_whitespace().next().and_then(|load| load.parse().ok()));
        Checks { governors, turbo, load_average, cpus, debug_build: cfg!(debug_assertions) }
    }

    /// One phrase per finding that makes timings less trustworthy.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let others: Vec<&String> =
            self.governors.iter().filter(|governor| *governor != "performance").collect();
        if !others.is_empty() {
            let names: Vec<&str> = others.iter().map(|governor| governor.as_str()).collect();
            warnings.push(format!("the CPU frequency governor is {}, not performance", names.join(", ")));
        }
        if self.turbo == Some(true) {
            warnings.push("turbo boost is on".to_owned());
        }
        if let Some(load) = self.load_average
            && load > self.cpus as f64 / 2.0
        {
            warnings.push(format!("the load average is {load:.2}, above half the {} CPUs", self.cpus));
        }
        if self.debug_build {
            warnings.push("parbench was built without --release".to_owned());
        }
        warnings
    }

    /// The one line a run prints about them, if any.
    pub fn warning_line(&self) -> Option<String> {
        let warnings = self.warnings();
        (!warnings.is_empty())
            .then(|| format!("warning: this machine may add noise to the timings: {}", warnings.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(files: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    #[test]
    fn a_noisy_machine_gets_every_warning() {
        let root = machine(&[
            ("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "powersave\n"),
            ("sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "performance\n"),
            ("sys/devices/system/cpu/cpufreq/policy0/scaling_governor", "ignored\n"),
            ("sys/devices/system/cpu/intel_pstate/no_turbo", "0\n"),
            ("proc/loadavg", "1.50 0.80 0.40 2/300 12345\n"),
        ]);
        let checks = Checks::read(root.path(), 2);
        assert_eq!(checks.governors, ["performance", "powersave"]);
        assert_eq!((checks.turbo, checks.load_average), (Some(true), Some(1.5)));
        let mut warnings = checks.warnings();
        if checks.debug_build {
            assert_eq!(warnings.pop().unwrap(), "parbench was built without --release");
        }
        assert_eq!(
            warnings,
            [
                "the CPU frequency governor is powersave, not performance",
                "turbo boost is on",
                "the load average is 1.50, above half the 2 CPUs",
            ]
        );
    }

    #[test]
    fn a_quiet_machine_or_an_unreadable_one_gets_none() {
        let quiet = machine(&[
            ("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance\n"),
            ("sys/devices/system/cpu/cpufreq/boost", "0\n"),
            ("proc/loadavg", "0.10 0.80 0.40 2/300 12345\n"),
        ]);
        let mut checks = Checks::read(quiet.path(), 2);
        checks.debug_build = false;
        assert_eq!(checks.turbo, Some(false));
        assert_eq!(checks.warning_line(), None);
        let mut unknown = Checks::read(&quiet.path().join("nowhere"), 2);
        unknown.debug_build = false;
        assert_eq!((unknown.governors.len(), unknown.turbo, unknown.load_average), (0, None, None));
        assert_eq!(unknown.warnings(), Vec::<String>::new());
    }
}
