//! The process's resource limits that a large pool runs into: open files
//! (`ulimit -n`) and processes (`ulimit -u`). A run checks them before
//! anything runs, so that a pool too large for them is refused up front
//! with the limit named, never failed half-way with a bare OS error.

/// A soft and a hard limit; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

impl Limit {
    /// Whether `needed` fits under the hard limit (the soft one can be raised).
    pub fn allows(&self, needed: u64) -> bool {
        self.hard.is_none_or(|hard| needed <= hard)
    }
}

use nix::sys::resource::{Resource, getrlimit, setrlimit};

fn read(resource: Resource) -> Option<Limit> {
    let (soft, hard) = getrlimit(resource).ok()?;
    let value = |raw: u64| (raw != nix::sys::resource::RLIM_INFINITY).then_some(raw);
    Some(Limit { soft: value(soft), hard: value(hard) })
}

/// Raises the soft limit to `needed` (at most to the hard limit), if it is
/// lower; children inherit it.
fn raise(resource: Resource, needed: u64) {
    let Some(limit) = read(resource) else { return };
    if limit.soft.is_none_or(|soft| soft >= needed) {
        return;
    }
    let target = limit.hard.map_or(needed, |hard| needed.min(hard));
    // Raising a soft limit up to the hard one is always permitted.
    let _ = setrlimit(resource, target, limit.hard.unwrap_or(nix::sys::resource::RLIM_INFINITY));
}

pub fn open_files() -> Option<Limit> {
    read(Resource::RLIMIT_NOFILE)
}

pub fn processes() -> Option<Limit> {
    read(Resource::RLIMIT_NPROC)
}

pub fn raise_open_files(needed: u64) {
    raise(Resource::RLIMIT_NOFILE, needed);
}

pub fn raise_processes(needed: u64) {
    raise(Resource::RLIMIT_NPROC, needed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_allows_up_to_its_hard_value() {
        let limit = Limit { soft: Some(256), hard: Some(1024) };
        assert!(limit.allows(1024));
        assert!(!limit.allows(1025));
        assert!(Limit { soft: Some(1), hard: None }.allows(u64::MAX));
        assert!(open_files().is_some());
    }
}
