//! Slices of a matrix for a cluster: `parbench run --shard I/N` runs the
//! I-th of N disjoint slices. The unit is a group, never an entry, because
//! entries that are compared with each other must be measured on the same
//! host in the same allocation. Slices are balanced by an estimate of each
//! group's cost, and every group lands in exactly one slice.
//!
//! The slices must not depend on the node: each task of an array job
//! expands the job on its own machine, where `"cpus"` may resolve to
//! another count (and then merge with a fixed count, or not). So the costs
//! that balance the slices come from the job expanded at [`PLANNING_CPUS`],
//! the same on every node, never from the node's own plan.

use std::fmt;
use std::str::FromStr;

use crate::jobfile::Job;
use crate::matrix::{self, Entry, Group, Overrides, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// From 0.
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("invalid shard \"{text}\"; write I/N with 0 <= I < N, such as 0/4");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = index.trim().parse().map_err(|_| bad())?;
        let count: usize = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The results' base name: `NAME.shard-I-of-N`.
    pub fn base_name(&self, job: &str) -> String {
        format!("{job}.shard-{}-of-{}", self.index, self.count)
    }
}

/// What a group costs to run, roughly: its runs times its items, plus a
/// fixed share per run for starting pools.
pub fn group_cost(plan: &Plan, group: &Group) -> u64 {
    plan.entries[group.entries.clone()]
        .iter()
        .map(|entry| entry.runs() * (entry.list_size as u64 + 100))
        .sum()
}

/// The slice of every group, balanced by cost: the costliest group first,
/// each to the slice with the least work so far (ties to the lower index),
/// which is deterministic for a plan and a count.
pub fn assign(plan: &Plan, count: usize) -> Vec<usize> {
    let mut order: Vec<(u64, usize)> =
        plan.groups.iter().map(|group| (group_cost(plan, group), group.index)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut load = vec![0u64; count.max(1)];
    let mut slice_of = vec![0; plan.groups.len()];
    for (cost, group) in order {
        let lightest = (0..load.len()).min_by_key(|slice| (load[*slice], *slice)).unwrap_or(0);
        load[lightest] += cost;
        slice_of[group] = lightest;
    }
    slice_of
}

/// The CPU count shards are planned at on every node: none, so that
/// `"cpus"` counts as a worker count of its own and merges with no fixed one.
pub const PLANNING_CPUS: usize = 0;

/// The plan whose group costs decide the slices: the same on every node.
pub fn planning_plan(job: &Job, overrides: Overrides) -> Plan {
    matrix::expand(job, PLANNING_CPUS, overrides)
}

/// The part of `plan` (this node's) that `shard` runs, entries and groups
/// renumbered, in plan order. The slices come from `planning`, the job's
/// [`planning_plan`], whose groups are `plan`'s (only entries differ).
pub fn restrict(plan: &Plan, planning: &Plan, shard: Shard) -> Plan {
    assert_eq!(plan.groups.len(), planning.groups.len(), "groups do not depend on the CPU count");
    let slice_of = assign(planning, shard.count);
    let mut entries: Vec<Entry> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for group in plan.groups.iter().filter(|group| slice_of[group.index] == shard.index) {
        let first = entries.len();
        let index = groups.len();
        for entry in &plan.entries[group.entries.clone()] {
            let mut entry = entry.clone();
            entry.index = entries.len();
            entry.group = index;
            entries.push(entry);
        }
        groups.push(Group { index, entries: first..entries.len(), ..group.clone() });
    }
    Plan { entries, groups, skipped: plan.skipped.clone(), cpus: plan.cpus, origin: plan.origin.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{Overrides, expand};
    use std::collections::BTreeSet;

    fn plan() -> Plan {
        let source = "version = 1\n[list]\ngenerator = \"range\"\nsize = [10, 100, 1000, 10000]\n[run]\nstrategies = [\"serial\", \"threads\"]\nworkers = [1, 2]\n[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\nparams = { iterations = [1, 2, 3] }\n[[workload]]\nname = \"b\"\nbuiltin = \"sleep\"\n";
        let job = crate::jobfile::parse(std::path::Path::new("s.toml"), source).unwrap();
        expand(&job, 2, Overrides::default())
    }

    #[test]
    fn every_group_is_in_exactly_one_shard_for_any_count() {
        let plan = plan();
        assert_eq!(plan.groups.len(), 16);
        for count in 1..=40 {
            let mut seen: Vec<String> = Vec::new();
            for index in 0..count {
                let part = restrict(&plan, &plan, Shard { index, count });
                for group in &part.groups {
                    let entries = &part.entries[group.entries.clone()];
                    assert!(entries.iter().all(|entry| entry.group == group.index));
                    seen.extend(entries.iter().map(|entry| entry.key.clone()));
                }
                for (position, entry) in part.entries.iter().enumerate() {
                    assert_eq!(entry.index, position);
                }
            }
            let unique: BTreeSet<&String> = seen.iter().collect();
            assert_eq!(seen.len(), plan.entries.len(), "N = {count}: every entry once");
            assert_eq!(unique.len(), plan.entries.len(), "N = {count}: no entry twice");
        }
    }

    #[test]
    fn slices_are_balanced_by_cost() {
        let plan = plan();
        let slices = assign(&plan, 4);
        let mut load = [0u64; 4];
        for group in &plan.groups {
            load[slices[group.index]] += group_cost(&plan, group);
        }
        let biggest = plan.groups.iter().map(|group| group_cost(&plan, group)).max().unwrap();
        let (max, min) = (load.iter().max().unwrap(), load.iter().min().unwrap());
        assert!(max - min <= biggest, "{load:?}");
    }

    #[test]
    fn shards_parse_and_reject_nonsense() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["5/5", "1/0", "x/2", "3", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard { index: 1, count: 3 }.base_name("job"), "job.shard-1-of-3");
    }
}
