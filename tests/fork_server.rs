//! The fork server that starts a `processes` pool of builtins
//! (`parbench __worker --fork-server`), driven here as the runner drives it:
//! a Unix socket on its stdin, one request per worker with the worker's
//! three descriptors attached (four with shared memory), the pid as the
//! answer.

use std::fs::File;
use std::io::{self, IoSlice, Read, Seek, Write};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::process::{Child, Command, Stdio};

use nix::sys::socket::{AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, sendmsg, socketpair};
use parbench::worker::{self, NOT_STARTED, STARTED};

fn start_server() -> (OwnedFd, Child) {
    let (ours, theirs) =
        socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC).unwrap();
    let server = Command::new(env!("CARGO_BIN_EXE_parbench"))
        .args(["__worker", worker::FORK_SERVER, "price-increase", "percent=10"])
        .env(worker::PARENT_ENV, std::process::id().to_string())
        .stdin(Stdio::from(theirs))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    (ours, server)
}

fn answer(socket: &OwnedFd) -> Vec<u8> {
    let mut answer = [0u8; 1024];
    // SAFETY: reads into the buffer we own.
    let got = unsafe { libc::read(socket.as_raw_fd(), answer.as_mut_ptr().cast(), answer.len()) };
    assert!(got >= 0, "{}", io::Error::last_os_error());
    answer[..got as usize].to_vec()
}

/// Asks for one worker; its pid, and our ends of its stdin and stdout.
fn request(socket: &OwnedFd) -> (i32, File, File) {
    let (pid, stdin, stdout, _) = request_with(socket, None);
    (pid, stdin, stdout)
}

/// As `request`, with the arena's descriptor as a fourth; also the
/// worker's stderr file.
fn request_with(socket: &OwnedFd, arena: Option<BorrowedFd<'_>>) -> (i32, File, File, File) {
    let (child_stdin, stdin) = io::pipe().unwrap();
    let (stdout, child_stdout) = io::pipe().unwrap();
    let stderr = tempfile::tempfile().unwrap();
    let request = (-1i32).to_le_bytes();
    let mut fds = vec![child_stdin.as_raw_fd(), child_stdout.as_raw_fd(), stderr.as_raw_fd()];
    fds.extend(arena.map(|arena| arena.as_raw_fd()));
    sendmsg::<()>(
        socket.as_raw_fd(),
        &[IoSlice::new(&request)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .unwrap();
    let answer = answer(socket);
    assert_eq!(answer[0], STARTED, "{}", String::from_utf8_lossy(&answer[1..]));
    let pid = i32::from_le_bytes(answer[1..5].try_into().unwrap());
    (pid, File::from(OwnedFd::from(stdin)), File::from(OwnedFd::from(stdout)), stderr)
}

/// Field `index` (1-based, as in proc(5)) of /proc/PID/stat.
fn stat_field(pid: i32, index: usize) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The name in parentheses may hold spaces; the fields after it do not.
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name.split_whitespace().nth(index - 3).unwrap().parse().unwrap()
}

fn reap(pid: i32) -> i32 {
    let mut status = 0;
    // SAFETY: waitpid writes the status we own.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid, "worker {pid} is not our child");
    status
}

fn frame(values: &[f64]) -> Vec<u8> {
    let mut frame = (values.len() as u32).to_le_bytes().to_vec();
    values.iter().for_each(|value| frame.extend_from_slice(&value.to_le_bytes()));
    frame
}

#[test]
fn every_worker_is_a_child_of_the_runner_in_its_own_group_and_serves_frames() {
    let (socket, mut server) = start_server();
    let workers: Vec<_> = (0..3).map(|_| request(&socket)).collect();
    let pids: Vec<i32> = workers.iter().map(|(pid, ..)| *pid).collect();
    assert!(!pids.contains(&(server.id() as i32)), "the server forks every worker and stays a server");
    let me = std::process::id() as i32;
    for (pid, mut stdin, mut stdout) in workers {
        // A worker sets itself up (its group, its death signal) before it
        // says it is ready.
        let mut ready = [0u8; 4];
        stdout.read_exact(&mut ready).unwrap();
        assert_eq!(&ready, worker::READY);
        assert_eq!(stat_field(pid, 4), me, "worker {pid}'s parent");
        assert_eq!(stat_field(pid, 5), pid, "worker {pid}'s process group");
        stdin.write_all(&frame(&[100.0, 2.5])).unwrap();
        let mut results = [0.0; 2];
        worker::read_frame(&mut stdout, &mut results).unwrap();
        assert_eq!(results, [100.0 * 1.1, 2.5 * 1.1]);
        // The end of its input ends it, and it is ours to reap.
        drop(stdin);
        let mut status = 0;
        // SAFETY: waitpid writes the status we own.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid, "worker {pid} is not our child");
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "worker {pid}: status {status}");
    }
    // It serves the next pool as it served this one, until the runner
    // closes the socket.
    let (pid, stdin, mut stdout) = request(&socket);
    let mut ready = [0u8; 4];
    stdout.read_exact(&mut ready).unwrap();
    drop(stdin);
    assert!(libc::WIFEXITED(reap(pid)));
    drop(socket);
    assert!(server.wait().unwrap().success());
}

#[test]
fn a_request_without_descriptors_is_answered_with_why() {
    let (socket, mut server) = start_server();
    let request = [0u8; 4];
    sendmsg::<()>(socket.as_raw_fd(), &[IoSlice::new(&request)], &[], MsgFlags::empty(), None).unwrap();
    let answer = answer(&socket);
    assert_eq!(answer[0], NOT_STARTED);
    assert!(String::from_utf8_lossy(&answer[1..]).contains("0 descriptors"), "{answer:?}");
    // The runner closing the socket ends the server.
    drop(socket);
    assert!(server.wait().unwrap().success());
}

/// A frame that points into the arena: the count with `IN_ARENA` set, then
/// the byte offset of the items.
fn arena_frame(count: usize, offset: u64) -> Vec<u8> {
    [&(count as u32 | worker::IN_ARENA).to_le_bytes()[..], &offset.to_le_bytes()[..]].concat()
}

#[test]
fn workers_given_shared_memory_compute_chunks_in_place() {
    let (socket, _server) = start_server();
    let arena = worker::Arena::create(2 * 64).unwrap();
    // Two forked workers on one arena: each gets its own slot of four items
    // and four results.
    let workers: Vec<_> = (0..2).map(|_| request_with(&socket, Some(arena.fd()))).collect();
    for (slot, (pid, mut stdin, mut stdout, _)) in workers.into_iter().enumerate() {
        let mut ready = [0u8; 4];
        stdout.read_exact(&mut ready).unwrap();
        assert_eq!(&ready, worker::READY);
        // The worker holds its stdin, stdout and stderr, and one copy of
        // the arena, and no second copy of any of them (what else it holds
        // came from this test's own start, as the cargo jobserver's pipe).
        let open: Vec<(String, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                (
                    entry.file_name().display().to_string(),
                    std::fs::read_link(entry.path()).unwrap().display().to_string(),
                )
            })
            .collect();
        let target =
            |fd: &str| open.iter().find(|(number, _)| number == fd).map(|(_, target)| target.clone());
        let ours =
            [target("0"), target("1"), target("2"), Some("/memfd:parbench-chunks (deleted)".to_owned())];
        for ours in ours {
            let ours = ours.expect("a descriptor of the worker's");
            assert_eq!(open.iter().filter(|(_, target)| *target == ours).count(), 1, "{ours} in {open:?}");
        }
        let items = [100.0, 2.5, -4.0, slot as f64];
        let offset = slot * 64;
        // SAFETY: the worker touches the slot only once it has the frame.
        unsafe { arena.put(offset, &items) };
        stdin.write_all(&arena_frame(items.len(), offset as u64)).unwrap();
        let mut answer = [0u8; 4];
        stdout.read_exact(&mut answer).unwrap();
        assert_eq!(u32::from_le_bytes(answer), items.len() as u32 | worker::IN_ARENA);
        let mut results = [0.0; 4];
        // SAFETY: the worker has answered; it touches the slot no more.
        unsafe { arena.get(offset + 32, &mut results) };
        assert_eq!(results, items.map(|item| item * 1.1));
        // The items are left as they were.
        let mut kept = [0.0; 4];
        // SAFETY: as above.
        unsafe { arena.get(offset, &mut kept) };
        assert_eq!(kept, items);
        drop(stdin);
        let status = reap(pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "worker {pid}: status {status}");
    }
}

#[test]
fn a_chunk_outside_the_shared_memory_ends_the_worker_with_why() {
    let (socket, _server) = start_server();
    let arena = worker::Arena::create(64).unwrap();
    let (pid, mut stdin, mut stdout, mut stderr) = request_with(&socket, Some(arena.fd()));
    let mut ready = [0u8; 4];
    stdout.read_exact(&mut ready).unwrap();
    // Four items and their results need 64 bytes from offset 8: 72 > 64.
    stdin.write_all(&arena_frame(4, 8)).unwrap();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "no answer for a chunk that does not fit: {rest:?}");
    let status = reap(pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) != 0, "worker {pid}: status {status}");
    let mut said = String::new();
    stderr.rewind().unwrap();
    stderr.read_to_string(&mut said).unwrap();
    assert!(
        said.contains("a chunk of 4 items at byte 8 is not an aligned part of the 64 bytes of shared memory"),
        "{said}"
    );
}
