//! Plain TCP from a few threads, each with many non-blocking connections: every connection
//! gets its exact share through `syslogkit listen`, reconnects included, and a connection
//! whose receiver stops reading holds up no other.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use super::{spawn_bench, through_listen, wait_bench};
use crate::listener::WAIT;

#[test]
fn three_hundred_connections_each_deliver_their_exact_share_across_reconnects() {
    let (sent, v) = through_listen(
        "tcp",
        &[
            "--count",
            "30000",
            "--connections",
            "300",
            "--reconnect-every",
            "40",
        ],
    );
    assert_eq!(sent["messages"], 30000);
    assert_eq!(sent["acknowledged"], 30000);
    // 100 messages each: new connections after 40 and 80.
    assert_eq!(sent["reconnects"], 600);
    assert_eq!(
        (&v["received"], &v["missing"], &v["duplicated"]),
        (&30000.into(), &0.into(), &0.into())
    );
    let conns = v["runs"][0]["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 300);
    for (i, c) in conns.iter().enumerate() {
        assert_eq!(c["conn"], i + 1, "{c}");
        assert_eq!(
            (&c["received"], &c["highest_seq"]),
            (&100.into(), &100.into())
        );
    }
    for c in sent["connections"].as_array().unwrap() {
        assert_eq!((&c["messages"], &c["last_seq"]), (&100.into(), &100.into()));
    }
}

/// A TCP listener that reads nothing by itself, and bench sending 16,000-byte messages into it
/// over `connections` for `duration`.
fn bench_into_a_plain_listener(
    connections: usize,
    duration: &str,
) -> (TcpListener, std::process::Child) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let to = listener.local_addr().unwrap().to_string();
    let connections = connections.to_string();
    let bench = spawn_bench(&[
        "--to",
        &to,
        "--connections",
        &connections,
        "--size",
        "16000",
        "--duration",
        duration,
    ]);
    (listener, bench)
}

/// Reads `stream` to its end and returns the bytes read.
fn drain(mut stream: TcpStream) -> u64 {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n as u64,
            Err(e) => panic!("after {total} bytes: {e}"),
        }
    }
}

#[test]
fn a_receiver_that_stops_reading_one_connection_holds_up_no_other() {
    // Every other connection is not read until the run is over. Bench's threads (four per
    // core) each own consecutive connections, so on a machine with fewer than 16 cores a
    // thread owns both kinds: one that blocked on a stalled socket would send no more on
    // the others than the socket buffers of a stalled one hold.
    const CONNECTIONS: usize = 64;
    let (listener, bench) = bench_into_a_plain_listener(CONNECTIONS, "2s");
    let mut read = Vec::new();
    let mut stalled = Vec::new();
    for i in 0..CONNECTIONS {
        let (stream, _) = listener.accept().unwrap();
        if i % 2 == 0 {
            read.push(thread::spawn(move || drain(stream)));
        } else {
            stalled.push(stream);
        }
    }
    // The read connections end when their time is up, the stalled ones still waiting.
    let deadline = Instant::now() + WAIT;
    while !read.iter().all(|r| r.is_finished()) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let finished = read.iter().filter(|r| r.is_finished()).count();
    // Then they are read too, so that bench can finish.
    let stalled: Vec<_> = stalled
        .into_iter()
        .map(|s| thread::spawn(move || drain(s)))
        .collect();
    let (sent, code, stderr) = wait_bench(bench);
    // The stalled ones are read within the grace after the end: their writes finish whole.
    assert_eq!(code, 0, "{stderr}");
    let read: Vec<u64> = read.into_iter().map(|r| r.join().unwrap()).collect();
    let stalled: Vec<u64> = stalled.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(
        finished,
        CONNECTIONS / 2,
        "read connections still open after {WAIT:?} (stalled ones took {stalled:?} bytes)"
    );
    // What bench says it wrote arrived, byte for byte.
    let written: u64 = read.iter().chain(&stalled).sum();
    assert_eq!(sent["bytes"], written, "{sent}");
    // A stalled one holds a few MiB (its socket buffers); in 2 s, the read ones each took
    // ten times that here (a debug build on 2 cores), and about as much as a stalled one if
    // the thread had waited on it.
    let most_stalled = *stalled.iter().max().unwrap();
    let least_read = *read.iter().min().unwrap();
    assert!(
        least_read > 2 * most_stalled,
        "read connections got {read:?} bytes, stalled ones {stalled:?}"
    );
}

#[test]
fn duration_ends_the_run_even_when_the_receiver_never_reads() {
    // Nothing is read until bench has exited (after the 5 s grace and the 5 s drain); before,
    // the write under way waited for the receiver for ever.
    let (listener, bench) = bench_into_a_plain_listener(4, "1s");
    let held: Vec<TcpStream> = (0..4).map(|_| listener.accept().unwrap().0).collect();
    let (sent, code, stderr) = wait_bench(bench);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("receiver not reading"), "{stderr}");
    // The messages wholly written, and at most the one cut short, used their numbers.
    for (messages, last_seq) in super::cut_at_the_end(&sent) {
        assert!(last_seq <= messages + 1, "{sent}");
    }
    // What bench says it wrote is what the kernel holds for the receiver, byte for byte.
    let written: u64 = held.into_iter().map(drain).sum();
    assert_eq!(sent["bytes"], written, "{sent}");
}
