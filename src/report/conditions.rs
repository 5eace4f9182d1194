//! The machine conditions of two runs, read from their env.json, and the
//! differences between them that can move timings. One pair of runs of an
//! unchanged job cannot tell a busier machine from slower code, so
//! `report --baseline` says where the conditions differed (the words are in
//! [`super::compare::condition_warnings`]).

use std::path::{Path, PathBuf};

use super::env::Env;

/// What a run's env.json says about the conditions its timings were taken
/// in; a field is unknown (`None`, empty) where the file lacks it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MachineState {
    pub host: Option<String>,
    pub parbench_version: Option<String>,
    pub cpus: Option<usize>,
    /// The 1-minute load average when the run started.
    pub load_average: Option<f64>,
    pub governors: Vec<String>,
    pub turbo: Option<bool>,
    pub debug_build: Option<bool>,
}

impl MachineState {
    /// What `env` says; an empty name or a CPU count of 0 is unknown.
    pub fn of(env: &Env) -> MachineState {
        let text = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        let checks = &env.machine_checks;
        MachineState {
            host: text(&env.host),
            parbench_version: text(&env.parbench_version),
            cpus: (env.logical_cpus > 0).then_some(env.logical_cpus),
            load_average: checks.load_average,
            governors: checks.governors.iter().filter_map(|governor| text(governor)).collect(),
            turbo: checks.turbo,
            debug_build: Some(checks.debug_build),
        }
    }

    /// The conditions of the run that wrote `csv`, from the env.json beside
    /// it; `None` where there is none or it does not read (older result files).
    pub fn beside(csv: &Path) -> Option<MachineState> {
        super::env::read_beside(csv).map(|env| MachineState::of(&env))
    }
}

/// A difference between the baseline's conditions (`old`) and the new
/// run's that can move timings by itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Difference {
    /// The load averages at the start differ by more than half the CPUs
    /// (the larger count where they differ), or one is above half its CPUs
    /// and the other is not.
    Load {
        old: f64,
        new: f64,
        old_cpus: usize,
        new_cpus: usize,
    },
    Governor {
        old: Vec<String>,
        new: Vec<String>,
    },
    Turbo {
        old: bool,
        new: bool,
    },
    DebugBuild {
        old: bool,
        new: bool,
    },
    Host {
        old: String,
        new: String,
    },
    Cpus {
        old: usize,
        new: usize,
    },
    ParbenchVersion {
        old: String,
        new: String,
    },
}

/// The differences that can move timings; a condition unknown on either
/// side is not compared.
pub fn differences(old: &MachineState, new: &MachineState) -> Vec<Difference> {
    let mut found = Vec::new();
    if let (Some(old_load), Some(new_load)) = (old.load_average, new.load_average)
        && let Some(old_cpus) = old.cpus.or(new.cpus)
        && let Some(new_cpus) = new.cpus.or(old.cpus)
    {
        let busy = |load: f64, cpus: usize| load > cpus as f64 / 2.0;
        let half = old_cpus.max(new_cpus) as f64 / 2.0;
        if (old_load - new_load).abs() > half || busy(old_load, old_cpus) != busy(new_load, new_cpus) {
            found.push(Difference::Load { old: old_load, new: new_load, old_cpus, new_cpus });
        }
    }
    if !old.governors.is_empty() && !new.governors.is_empty() && old.governors != new.governors {
        found.push(Difference::Governor { old: old.governors.clone(), new: new.governors.clone() });
    }
    let known = [
        differs(&old.turbo, &new.turbo).map(|(old, new)| Difference::Turbo { old, new }),
        differs(&old.debug_build, &new.debug_build).map(|(old, new)| Difference::DebugBuild { old, new }),
        differs(&old.host, &new.host).map(|(old, new)| Difference::Host { old, new }),
        differs(&old.cpus, &new.cpus).map(|(old, new)| Difference::Cpus { old, new }),
        differs(&old.parbench_version, &new.parbench_version)
            .map(|(old, new)| Difference::ParbenchVersion { old, new }),
    ];
    found.extend(known.into_iter().flatten());
    found
}

/// Both values, where both are known and they differ.
fn differs<T: PartialEq + Clone>(old: &Option<T>, new: &Option<T>) -> Option<(T, T)> {
    match (old, new) {
        (Some(old), Some(new)) if old != new => Some((old.clone(), new.clone())),
        _ => None,
    }
}

/// What comparing the baseline's conditions with those of each new file
/// found: the differences (each once) and the files without a readable
/// env.json, whose conditions could not be compared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compared {
    pub differences: Vec<Difference>,
    pub unknown: Vec<PathBuf>,
}

pub fn compare_files(baseline: &Path, news: &[PathBuf]) -> Compared {
    let mut compared = Compared::default();
    let Some(old) = MachineState::beside(baseline) else {
        compared.unknown.push(baseline.to_path_buf());
        return compared;
    };
    for path in news {
        let Some(new) = MachineState::beside(path) else {
            compared.unknown.push(path.clone());
            continue;
        };
        for difference in differences(&old, &new) {
            if !compared.differences.contains(&difference) {
                compared.differences.push(difference);
            }
        }
    }
    compared
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet(load: f64) -> MachineState {
        MachineState {
            host: Some("box".to_owned()),
            parbench_version: Some("0.2.0".to_owned()),
            cpus: Some(2),
            load_average: Some(load),
            governors: vec!["performance".to_owned()],
            turbo: Some(false),
            debug_build: Some(false),
        }
    }

    #[test]
    fn loads_apart_by_more_than_half_the_cpus_or_across_half_differ() {
        let load = |old: f64, new: f64| differences(&quiet(old), &quiet(new));
        assert_eq!(load(0.4, 6.8), [Difference::Load { old: 0.4, new: 6.8, old_cpus: 2, new_cpus: 2 }]);
        // Both busy, but 1.5 apart: more than half of 2 CPUs.
        assert_eq!(load(2.0, 3.5).len(), 1);
        // 0.6 apart, but one above half the CPUs and one not.
        assert_eq!(load(0.5, 1.1).len(), 1);
        // Both quiet, or both busy and close: the same conditions.
        assert!(load(0.1, 0.9).is_empty());
        assert!(load(3.0, 3.9).is_empty());
        assert!(load(1.0, 1.0).is_empty());
        let mut eight = quiet(3.5);
        eight.cpus = Some(8);
        let mut eight_again = quiet(0.2);
        eight_again.cpus = Some(8);
        assert!(differences(&eight, &eight_again).is_empty());
    }

    #[test]
    fn every_other_condition_that_moves_timings_is_named() {
        let old = quiet(0.2);
        let mut new = quiet(0.2);
        new.governors = vec!["powersave".to_owned()];
        new.turbo = Some(true);
        new.debug_build = Some(true);
        new.host = Some("other".to_owned());
        new.cpus = Some(4);
        new.parbench_version = Some("0.3.0".to_owned());
        assert_eq!(
            differences(&old, &new),
            [
                Difference::Governor {
                    old: vec!["performance".to_owned()],
                    new: vec!["powersave".to_owned()]
                },
                Difference::Turbo { old: false, new: true },
                Difference::DebugBuild { old: false, new: true },
                Difference::Host { old: "box".to_owned(), new: "other".to_owned() },
                Difference::Cpus { old: 2, new: 4 },
                Difference::ParbenchVersion { old: "0.2.0".to_owned(), new: "0.3.0".to_owned() },
            ]
        );
    }

    #[test]
    fn what_either_side_does_not_know_is_not_compared() {
        assert!(differences(&quiet(0.2), &MachineState::default()).is_empty());
        assert!(differences(&MachineState::default(), &quiet(6.0)).is_empty());
        let mut no_governor = quiet(0.2);
        no_governor.governors.clear();
        assert!(differences(&quiet(0.2), &no_governor).is_empty());
    }

    #[test]
    fn the_conditions_are_read_as_env_json_writes_them() {
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/env-0.1/tiny.env.json");
        let mut env = Env::read(Path::new(fixture)).unwrap();
        env.host = "box".to_owned();
        env.parbench_version = "0.2.0".to_owned();
        env.machine_checks.governors = vec!["performance".to_owned(), String::new()];
        env.machine_checks.turbo = Some(false);
        env.machine_checks.load_average = Some(0.4);
        assert_eq!(MachineState::of(&env), quiet(0.4));
        env.host.clear();
        env.logical_cpus = 0;
        env.machine_checks.load_average = None;
        let unknown = MachineState::of(&env);
        assert_eq!((unknown.host, unknown.cpus, unknown.load_average), (None, None, None));
    }
}
