use super::*;
use std::path::Path;

fn keys(source: &str) -> Vec<(String, String)> {
    let job = crate::jobfile::parse(Path::new("k.toml"), source).unwrap();
    expand(&job, 2, Overrides::default()).entries.iter().map(|e| (e.label(), e.key.clone())).collect()
}

#[test]
fn keys_cover_the_job_files_place_and_the_scripts_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let source = "version = 1\n[list]\ngenerator = \"range\"\nsize = 2\n[run]\nstrategies = [\"serial\"]\n[[workload]]\nname = \"s\"\ncommand = [\"sh\", \"w.sh\", \"{item}\"]\n";
    let script = |folder: &str, text: &str| {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join("w.sh"), text).unwrap();
    };
    let key = |folder: &str| {
        let job = crate::jobfile::parse(&dir.path().join(folder).join("j.toml"), source).unwrap();
        let entry = &expand(&job, 2, Overrides::default()).entries[0];
        (entry.key.clone(), entry.legacy_key.clone())
    };
    script("a", "echo 1\n");
    script("b", "echo 1\n");
    let (a, legacy) = key("a");
    assert_eq!(key("a").0, a, "the same job, the same key");
    assert_ne!(key("b").0, a, "another folder");
    assert_eq!(key("b").1, legacy, "the key of 0.1.0 knew no folder");
    script("a", "echo 2\n");
    assert_ne!(key("a").0, a, "another script");
}

#[test]
fn keys_survive_reordering_and_ignore_repetitions_but_not_definitions() {
    let base = "version = 1\n[list]\ngenerator = \"range\"\nsize = 5\n[run]\nstrategies = [\"serial\", \"threads\"]\nworkers = 2\n";
    let a = "[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\n";
    let b = "[[workload]]\nname = \"b\"\nbuiltin = \"sleep\"\n";
    let mut first = keys(&format!("{base}{a}{b}"));
    let mut reordered = keys(&format!("{base}repetitions = 9\n{b}{a}"));
    first.sort();
    reordered.sort();
    assert_eq!(first, reordered);
    let changed = keys(&format!("{base}{a}params = {{ iterations = 7 }}\n"));
    assert_ne!(changed[0].1, first.iter().find(|(label, _)| label.starts_with("a ")).unwrap().1);
    let scaled = keys(&format!("{}{a}", base.replace("size = 5", "size = 5\nstep = 2")));
    assert_ne!(scaled[0].1, first.iter().find(|(label, _)| label.starts_with("a ")).unwrap().1);
}

/// A digest every clone gives the files a shipped job's commands name: the
/// real one is of the machine's `expr` or `sh`, or of a script as edited.
const PINNED_DIGEST: &str = "0123456789abcdef";

/// A shipped job as every clone expands it: on 4 CPUs, its file named by
/// its place in the repository (the key covers the absolute path), measured
/// by parbench 0.1.0, the files its commands name with [`PINNED_DIGEST`].
fn shipped(name: &str) -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs").join(format!("{name}.toml"));
    let mut job = crate::jobfile::load(&path).unwrap();
    for workload in &mut job.workloads {
        if let WorkloadKind::Command { inputs, .. } = &mut workload.kind {
            inputs.iter_mut().for_each(|(_, digest)| *digest = PINNED_DIGEST.to_owned());
        }
    }
    let mut origin = Origin::of(&job);
    origin.job_file = format!("jobs/{name}.toml");
    origin.version = "0.1.0".to_owned();
    origin.python.iter_mut().for_each(|(_, digest)| *digest = PINNED_DIGEST.to_owned());
    expand_from(&job, 4, Overrides::default(), origin)
}

/// An entry's label, key and 0.1.0 key.
type Pinned = (&'static str, &'static str, &'static str);

/// Every shipped job file: each entry's label, key and 0.1.0 key, as
/// [`shipped`] expands it. A key that changes here breaks `--resume` and
/// `cluster` against every results folder on disk: change the encoding in
/// `key.rs` only with an upgrade path, never these literals alone.
#[rustfmt::skip]
const GOLDEN: &[(&str, &[Pinned])] = &[
    ("break-even", &[
        ("increase · 100 items · serial", "xc6d14baccd549c15", "x1a12d2ca854b220a"),
        ("increase · 100 items · processes ×2 · chunk auto:guided", "x31a7cc18fce1baa1", "x4fe0c9dadbc43b77"),
        ("increase · 1000 items · serial", "xa91b5cfdf7363ebc", "x83a3f9b9c6682fd1"),
        ("increase · 1000 items · processes ×2 · chunk auto:guided", "xc668f0cdb0beabbe", "xfa6fc15d8a145906"),
        ("increase · 10000 items · serial", "x1a220118eb1cc7e8", "xe77fab896470e1ae"),
        ("increase · 10000 items · processes ×2 · chunk auto:guided", "x8158233eb9f5f939", "xb469033f18066292"),
        ("increase · 100000 items · serial", "x3813465981a77da2", "x4c116703eb786a5a"),
        ("increase · 100000 items · processes ×2 · chunk auto:guided", "x9808773b71984bcc", "x11d7d2f16789712e"),
        ("increase · 1000000 items · serial", "x8048a5e604e402cd", "xbde6fa0e71d8a68a"),
        ("increase · 1000000 items · processes ×2 · chunk auto:guided", "x19a0f49e5d2c9e8f", "x0aaf08fbf5c189aa"),
        ("spin · 100 items · serial", "x8e090514c95a108c", "x0009999a68b0bb36"),
        ("spin · 100 items · processes ×2 · chunk auto:guided", "x1d07f16a9e57445a", "x01331ba483ac8400"),
        ("spin · 1000 items · serial", "xc9460e73692db1de", "x43a19650652273e6"),
        ("spin · 1000 items · processes ×2 · chunk auto:guided", "x7b094f717ef966f2", "x0b8c0e70f072a569"),
        ("spin · 10000 items · serial", "x8116678af528bf55", "x11f7c3f038a46f6a"),
        ("spin · 10000 items · processes ×2 · chunk auto:guided", "x6c9db7045b82af8f", "x2379c37ae968ee64"),
        ("spin · 100000 items · serial", "x7da4fcbbdfefff71", "x0654c83dd7079a72"),
        ("spin · 100000 items · processes ×2 · chunk auto:guided", "xa6531e35ffcea659", "x5d507633893916d4"),
        ("spin · 1000000 items · serial", "x331f340d65e47f51", "x270e6bd2bde6a989"),
        ("spin · 1000000 items · processes ×2 · chunk auto:guided", "x1a0cd73b8b8fb2c3", "x5c95a160d37f199c"),
    ]),
    ("commands", &[
        ("expr · 200 items · serial", "x1e746bb3ef0b68d9", "xfa7f27469b9d853b"),
        ("expr · 200 items · processes ×2", "x3fdaa91a2781d920", "x2e74494682bac766"),
        ("expr · 200 items · processes ×4", "xa13f8351c16dcf68", "x701e62a956d25503"),
        ("sh-arith · 200 items · serial", "xd7e274c268679cef", "x37d2a6b31540a27f"),
        ("sh-arith · 200 items · processes ×2", "x9d5285c36e19b19b", "x419181aae46db23e"),
        ("sh-arith · 200 items · processes ×4", "x56d455f34b3bf9c4", "xea7fad518f2acfdc"),
        ("sed · 200 items · serial", "xf97185ffae744668", "xf65c5bf67005f880"),
        ("sed · 200 items · processes ×2 · chunk auto:guided", "x4e9c541baee41ebe", "xfc6e07ef118aa7c7"),
        ("sed · 200 items · processes ×4 · chunk auto:guided", "x899f2616749f78da", "x42f1ce76db0b04f5"),
    ]),
    ("crazy-iterations", &[
        ("crazy iterations=200000 · 20 items · serial", "xd929f5f662594714", "x47e21336c2554e50"),
        ("crazy iterations=400000 · 20 items · serial", "xb17472feb36bb730", "x3332f19a9d1513a5"),
    ]),
    ("history", &[
        ("crazy · 20 items · serial", "x7a9d178f38d98627", "x52e0f8242e27db2f"),
        ("crazy · 20 items · processes ×2 · chunk auto:guided", "xbe93e3ff5fceafc6", "xce1bea70a499f4ca"),
    ]),
    ("io-bound", &[
        ("wait · 40 items · serial", "xc406f98e2fee0203", "xcb4b2fcfa965def3"),
        ("wait · 40 items · threads ×2", "x1362fcf770f6c528", "xc7a64a5fc0e6b969"),
        ("wait · 40 items · threads ×8", "x71c1976f80dfd8f6", "x25be112f64ccd85b"),
        ("wait · 40 items · threads ×20", "x8a372ac0d933eeae", "xfbca49da91efe5bc"),
        ("wait · 40 items · processes ×2 · chunk auto:guided", "x663b90dc0d6cc51c", "x1f986dabb826dc24"),
        ("wait · 40 items · processes ×8 · chunk auto:guided", "x1e80424b8feb0c10", "x9d0ff72fb8293860"),
        ("wait · 40 items · processes ×20 · chunk auto:guided", "xf439173de45618bc", "x8c09af2fb2673c81"),
    ]),
    ("python-pools", &[
        ("light · 20 items · serial", "x90280d299287fbe4", "x3c66ad5b2bf0bb7f"),
        ("light · 20 items · threads ×2", "x0466f5e787078b64", "x27efb64c01df3454"),
        ("light · 20 items · processes ×2 · chunk 1", "x9692c97cdc2cd9f4", "x58e16da14cec1fa6"),
        ("crazy · 20 items · serial", "x46bc531bfbedcee1", "xb4eab1611e278d6d"),
        ("crazy · 20 items · threads ×2", "x350dabece91541ca", "x990e3998769a772c"),
        ("crazy · 20 items · processes ×2 · chunk 1", "xbfb2ce8fae342d89", "x1cb505c02eceeb08"),
    ]),
    ("python-seed", &[
        ("increase · 20 items · serial", "x5a9bece393038caa", "x12cccf47ddbce1c3"),
        ("increase · 20 items · processes ×2 · chunk auto:guided", "xfb9f277140f87583", "x6b33f4d8ec527f76"),
        ("crazy · 20 items · serial", "xa3891fbed6ffdfb3", "x52e0f8242e27db2f"),
        ("crazy · 20 items · processes ×2 · chunk auto:guided", "x356f1ce725487c83", "xce1bea70a499f4ca"),
    ]),
    ("scaling", &[
        ("spin · 100 items · serial", "x617dad20b84399cb", "xe58b06660ece5e20"),
        ("spin · 100 items · threads ×1", "x25fca437668c296d", "x97317e37c1f0f122"),
        ("spin · 100 items · threads ×2", "x4ddeb76549d43852", "x9e7ab200ec0ff53e"),
        ("spin · 100 items · threads ×4", "xa2dacbd2d611807a", "x8105333190b536ad"),
        ("spin · 100 items · processes ×1 · chunk auto:guided", "x51eb7fda8c3c0767", "x014f64718c860f53"),
        ("spin · 100 items · processes ×2 · chunk auto:guided", "xdae83eed41350403", "xaa3f4c004e72f508"),
        ("spin · 100 items · processes ×4 · chunk auto:guided", "x88be739b7b265303", "x6eb96bfe132c4e5b"),
        ("spin · 1000 items · serial", "x93cd936511bade5e", "x7e2ba97dd23c06f0"),
        ("spin · 1000 items · threads ×1", "x5e19c605c5927850", "xc76a1d523537e824"),
        ("spin · 1000 items · threads ×2", "xc7b8efa6f3975223", "x4f489d0da31f0a69"),
        ("spin · 1000 items · threads ×4", "x3319d94616927709", "x3bbb7533d13469ec"),
        ("spin · 1000 items · processes ×1 · chunk auto:guided", "x29e2606ba51fcf79", "x5dc749d4249dc47b"),
        ("spin · 1000 items · processes ×2 · chunk auto:guided", "x32bf40695e437dff", "xf5dc9d873032634f"),
        ("spin · 1000 items · processes ×4 · chunk auto:guided", "xc5760fc549978525", "x8375e2bde797edae"),
        ("spin · 10000 items · serial", "xc90f84d3409a321a", "xab592919dce15e6e"),
        ("spin · 10000 items · threads ×1", "x143febfb2f0f6977", "x6a82850e982d4e42"),
        ("spin · 10000 items · threads ×2", "xe8b6126ee2da1f35", "xa71dffdc629c2d4a"),
        ("spin · 10000 items · threads ×4", "xed6fdb00847e4f0d", "x019faa7d4b4b55c6"),
        ("spin · 10000 items · processes ×1 · chunk auto:guided", "xc66e13e490136e7c", "xbee4241ec12f29ed"),
        ("spin · 10000 items · processes ×2 · chunk auto:guided", "x9e9f55585a71ae21", "x772ba7429b5d2f8f"),
        ("spin · 10000 items · processes ×4 · chunk auto:guided", "x46cb2cf023daaed8", "x79f817b299cffc90"),
        ("increase · 100 items · serial", "xca7a19ab77af9b04", "x1a12d2ca854b220a"),
        ("increase · 100 items · threads ×1", "x99ea4c9533c72908", "xd8a4bf7bf42c85a2"),
        ("increase · 100 items · threads ×2", "x7a4f9cbb6697bc83", "xa29188248472095d"),
        ("increase · 100 items · threads ×4", "xcd4ed3aa6ea2fc9c", "x931ec2b31c332dfb"),
        ("increase · 100 items · processes ×1 · chunk auto:guided", "x699a8b2b9d782617", "x451ea41a9f748a84"),
        ("increase · 100 items · processes ×2 · chunk auto:guided", "x7bcc6fe72f057353", "x4fe0c9dadbc43b77"),
        ("increase · 100 items · processes ×4 · chunk auto:guided", "x0112428b71ce8642", "xa6ef8f97d020129e"),
        ("increase · 1000 items · serial", "x32fec45852d8a403", "x83a3f9b9c6682fd1"),
        ("increase · 1000 items · threads ×1", "x1ea96201b5593537", "x9df1cb3809ef22ee"),
        ("increase · 1000 items · threads ×2", "xaf7e7f812d090713", "x6000433d3ce88a39"),
        ("increase · 1000 items · threads ×4", "x28120ddd4c423cd4", "x8dfd3c6cbd618b83"),
        ("increase · 1000 items · processes ×1 · chunk auto:guided", "xf36290833c85d445", "x330206834ec4be48"),
        ("increase · 1000 items · processes ×2 · chunk auto:guided", "xd8a4e1e56e2fa252", "xfa6fc15d8a145906"),
        ("increase · 1000 items · processes ×4 · chunk auto:guided", "x8f6ff8c52598eccb", "xd540e659e2f6ad73"),
        ("increase · 10000 items · serial", "x3e83bb3f457fba43", "xe77fab896470e1ae"),
        ("increase · 10000 items · threads ×1", "xd71467bd2db2209c", "x6efde0aee2289bfb"),
        ("increase · 10000 items · threads ×2", "x5e817f7ae8ec4ad0", "x34535ee8758df820"),
        ("increase · 10000 items · threads ×4", "x45c5472c236ced25", "x1e8faf23594c0781"),
        ("increase · 10000 items · processes ×1 · chunk auto:guided", "xdbbaf792a899a511", "x21c6e4ee032bbb21"),
        ("increase · 10000 items · processes ×2 · chunk auto:guided", "x2489525583a2313e", "xb469033f18066292"),
        ("increase · 10000 items · processes ×4 · chunk auto:guided", "x526234eb45d26dd3", "x367feb3e184c0c2e"),
    ]),
    ("scaling-sleep", &[
        ("sleep · 64 items · serial", "x61f9d6b32dfd9a23", "x5bdee6f924155aa4"),
        ("sleep · 64 items · threads ×1", "x608a5a0bc4a44784", "x3860b4eaa4cb8a73"),
        ("sleep · 64 items · threads ×2", "x8ceeb58e98d6afd5", "xb3ff9bdab74879a4"),
        ("sleep · 64 items · threads ×4", "x98dd4ec99bd3b646", "x337e5acffb2f21ef"),
        ("sleep · 64 items · threads ×8", "x40b2636439968098", "x8dd3d167a7bcbd8b"),
        ("sleep · 64 items · threads ×16", "xe2717000509aeb01", "x913ffb245b415585"),
    ]),
    ("scaling-spin", &[
        ("spin · 64 items · serial", "xa8289c0f13540b80", "xdf4636c3659beb53"),
        ("spin · 64 items · threads ×1", "xe08d217a4a4c0cdf", "x1ec704000630f193"),
        ("spin · 64 items · threads ×2", "x00888696885fc018", "x10297df9eec84a4f"),
        ("spin · 64 items · threads ×3", "xbb95ab4edd0b9e00", "x630bdf6e4631eb93"),
        ("spin · 64 items · threads ×4", "xef1eab7eda220a24", "xd527cef335a5d73f"),
        ("spin · 64 items · threads ×6", "x228374bee65a62fb", "x8f43e695aa0e71eb"),
        ("spin · 64 items · threads ×8", "x5d20c192cd55a8f4", "xd227b97970686d31"),
    ]),
    ("seed", &[
        ("increase · 20 items · serial", "xbc712ef452c932ba", "x0b7a8b79b82ec7e4"),
        ("increase · 20 items · threads ×2", "xc31bdff151a5b137", "x86913b4d89185f06"),
        ("increase · 20 items · processes ×2 · chunk auto:guided", "xd585aed4cd50c847", "x33a14b2949ac29c1"),
        ("crazy · 20 items · serial", "x51cd6d0966e67c44", "x47e21336c2554e50"),
        ("crazy · 20 items · threads ×2", "x303337d79c30eafb", "x1149d3e5066981be"),
        ("crazy · 20 items · processes ×2 · chunk auto:guided", "x6a872163c0f11fc0", "x809d881ca3e78cb3"),
    ]),
];

#[test]
fn the_keys_of_every_shipped_job_are_pinned() {
    let jobs = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
    let mut names: Vec<String> = std::fs::read_dir(&jobs)
        .unwrap()
        .filter_map(|file| file.unwrap().file_name().into_string().ok())
        .filter_map(|file| file.strip_suffix(".toml").map(str::to_owned))
        .collect();
    names.sort();
    let pinned: Vec<&str> = GOLDEN.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, pinned, "every job file in jobs/ has its keys pinned here");
    for (name, entries) in GOLDEN {
        let plan = shipped(name);
        let got: Vec<(String, String, String)> = plan
            .entries
            .iter()
            .map(|entry| (entry.label(), entry.key.clone(), entry.legacy_key.clone()))
            .collect();
        let want: Vec<(String, String, String)> = entries
            .iter()
            .map(|(label, key, legacy)| ((*label).to_owned(), (*key).to_owned(), (*legacy).to_owned()))
            .collect();
        assert_eq!(got, want, "the keys of jobs/{name}.toml");
        assert!(plan.entries.iter().all(|entry| entry.debug_key.is_none()), "jobs/{name}.toml: Debug agrees");
    }
}

/// A SplitMix64 stream: inputs drawn the same way every run.
fn draws(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Text as job files hold it: what the escapes name, other control
/// characters, letters of several scripts, emoji.
const ORDINARY: &[&str] = &[
    "a",
    "Z",
    "7",
    " ",
    "=",
    "'",
    "\"",
    "\\",
    "\n",
    "\t",
    "\r",
    "\0",
    "\u{1}",
    "\u{1b}",
    "\u{7f}",
    "\u{85}",
    "\u{9f}",
    "{item}",
    "é",
    "ß",
    "Ж",
    "中",
    "€",
    "😀",
    "🦀",
    "Number(1.0)",
    "\\u{301}",
];

#[test]
fn the_canonical_string_is_the_debug_string_of_ordinary_text() {
    let check = |text: &str| assert_eq!(key::canonical_string(text), format!("{text:?}"), "{text:?}");
    for first in ORDINARY {
        for second in ORDINARY {
            check(&format!("{first}{second}"));
        }
    }
    let ranges = [(0x20, 0x7e), (0xc0, 0xff), (0x410, 0x44f), (0x4e00, 0x4fff), (0x1f600, 0x1f64f)];
    let mut next = draws(34);
    for _ in 0..5_000 {
        let length = next() % 12;
        let text: String = (0..length)
            .map(|_| match next() % 4 {
                0 => ORDINARY[(next() % ORDINARY.len() as u64) as usize].to_owned(),
                _ => {
                    let (low, high) = ranges[(next() % ranges.len() as u64) as usize];
                    char::from_u32(low + (next() % u64::from(high - low + 1)) as u32).unwrap().to_string()
                }
            })
            .collect();
        check(&text);
    }
}

#[test]
fn the_canonical_number_is_the_debug_number() {
    let check = |number: f64| assert_eq!(key::number_text(number), format!("{number:?}"), "{number:e}");
    for number in [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        42.0,
        1_000.0,
        1e15,
        9_999_999_999_999_998.0,
        1e16,
        1e17,
        1e300,
        1e-4,
        1e-5,
        0.000_099_999,
        1.5e-7,
        5e-324,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::EPSILON,
        9.007_199_254_740_993e15,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.1 + 0.2,
        1.0 / 3.0,
    ] {
        check(number);
        check(-number);
    }
    // Either side of the bounds where the form changes.
    for bound in [1e-4_f64, 1e16] {
        check(f64::from_bits(bound.to_bits() - 1));
        check(f64::from_bits(bound.to_bits() + 1));
    }
    let mut next = draws(7);
    for _ in 0..20_000 {
        check(f64::from_bits(next()));
        check((next() % 2_000_000) as f64 / 8.0);
        check(10f64.powi((next() % 40) as i32 - 20) * (next() % 1000) as f64);
    }
}

/// The text of the one entry of a command job, from the folder `/jobs`.
fn text_of(source: &str, quoting: key::Quoting) -> String {
    let job = crate::jobfile::parse(Path::new("k.toml"), source).unwrap();
    let workload = &job.workloads[0];
    let (_, params) = make_work(&workload.kind, &combinations(&workload.param_axes)[0]);
    let definition = key::Definition {
        workload: &workload.name,
        kind: &workload.kind,
        generator: &job.generator,
        params: &params,
        list_size: job.sizes[0],
        strategy: Strategy::Processes,
        workers: 2,
        chunk: key::Chunk::Fixed(Some(3)),
        pool_start: job.pool_start,
    };
    let origin =
        Origin { job_file: "/jobs/k.toml".to_owned(), version: "0.1.0".to_owned(), ..Origin::default() };
    key::text(&definition, &origin, quoting)
}

const LINES_JOB: &str = "version = 1\nname = \"k\"\n[list]\ngenerator = \"random\"\nsize = 9\nseed = 5\n\
    [run]\nstrategies = [\"processes\"]\n[[workload]]\nname = \"l\"\ncommand = [\"{cmd}\", \"-u\"]\n\
    protocol = \"lines\"\nready = \"go \\\"now\\\"\"\nparams = { cmd = \"sed\", scale = 0.5 }\n";

#[test]
fn an_entry_key_is_the_digest_of_its_text_as_documented() {
    let text = text_of(LINES_JOB, key::Quoting::Canonical);
    assert_eq!(
        text,
        r#""l"|command ["{cmd}", "-u"] Lines ready "go \"now\""|["cmd=Text(\"sed\")", "scale=Number(0.5)"]|Random { low: 0.0, high: 1.0, seed: 5 }|9|processes|2|Some(3)|[]|"/jobs/k.toml"|0.1.0"#
    );
    assert_eq!(text, text_of(LINES_JOB, key::Quoting::Debug));
}

#[test]
fn an_entry_whose_text_debug_escaped_also_answers_to_the_key_it_had() {
    // A combining accent (as macOS spells "é" in a folder's name), a
    // no-break space, a zero-width space: std's Debug escapes them by its
    // Unicode tables; the canonical text keeps them.
    for odd in ["cafe\u{301}", "a\u{a0}b", "a\u{200b}b"] {
        let source = LINES_JOB.replace("cmd = \"sed\"", &format!("cmd = \"{odd}\""));
        let canonical = text_of(&source, key::Quoting::Canonical);
        let debug = text_of(&source, key::Quoting::Debug);
        assert!(canonical.contains(odd), "{canonical}");
        assert!(debug.contains("\\\\u{"), "{debug}");
        let job = crate::jobfile::parse(Path::new("k.toml"), &source).unwrap();
        let entry = &expand(&job, 2, Overrides::default()).entries[0];
        let former = entry.debug_key.clone().expect("a key of Debug's text");
        assert_ne!(former, entry.key);
        assert!(entry.former_keys().any(|key| key == former));
        assert!(entry.former_keys().any(|key| key == entry.legacy_key));
    }
    let job = crate::jobfile::parse(Path::new("k.toml"), LINES_JOB).unwrap();
    assert_eq!(expand(&job, 2, Overrides::default()).entries[0].debug_key, None);
}
