//! Framing throughput: decoding and encoding 100-byte and 1 KiB syslog lines, LF and octet
//! counting, beside what a Rust user would reach for (`tokio_util::codec::LinesCodec` and
//! `AnyDelimiterCodec`) and beside a bare `memchr` scan over the same buffer, the physical limit
//! (issue 5 §5). `scripts/bench-framing.sh` runs it and prints MB/s, messages/s and the ratios.
//!
//! Groups are named `decode/<N>x<size>` and `encode/<N>x<size>`: one iteration handles N
//! messages of that size, about 256 KiB, which stays in cache as in peers.md §3.3.

use std::hint::black_box;

use bytes::{Buf, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use syslogkit::framing::{Decoder, Escape, FrameCodec, Framing, encode};
use tokio_util::codec::{AnyDelimiterCodec, Encoder as _, LinesCodec};

const BUFFER_BYTES: usize = 256 * 1024;
const MAX_LEN: usize = 64 * 1024;

/// `n` RFC 3164 lines padded to exactly `size` bytes, as in peers.md §3.3.
fn messages(size: usize) -> Vec<String> {
    let n = BUFFER_BYTES / size;
    (0..n)
        .map(|i| {
            let mut line = format!("<134>Nov 22 18:21:00 host01 app[{}]: seq={i} ", i % 1000);
            while line.len() < size {
                line.push(char::from(b'a' + (line.len() % 26) as u8));
            }
            line
        })
        .collect()
}

fn label(size: usize) -> String {
    if size >= 1024 {
        format!("{}KiB", size / 1024)
    } else {
        format!("{size}B")
    }
}

/// Runs a slice decoder over all of `buf` as a reader loop would (`decode` until it needs
/// more, then `decode_eof`) and counts the frames.
fn decode_slice(framing: &Framing, buf: &[u8]) -> usize {
    let mut decoder = Decoder::new(framing, MAX_LEN);
    let mut frames = 0;
    let mut count = |frame: syslogkit::framing::Decoded<'_>| {
        black_box(frame.bytes());
        frames += 1;
        std::ops::ControlFlow::<()>::Continue(())
    };
    let (used, _) = decoder.for_each(buf, false, &mut count);
    decoder.for_each(&buf[used..], true, &mut count);
    frames
}

/// The physical limit: `memchr` for each LF, yielding the slice before it.
fn memchr_scan(buf: &[u8]) -> usize {
    let mut rest = buf;
    let mut frames = 0;
    while let Some(end) = memchr::memchr(b'\n', rest) {
        black_box(&rest[..end]);
        frames += 1;
        rest = &rest[end + 1..];
    }
    frames
}

/// Runs a `tokio_util` decoder over a `BytesMut` copy of the data (the copy is not timed).
fn bench_codec<D: tokio_util::codec::Decoder>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    data: &[u8],
    n: usize,
    mut make: impl FnMut() -> D,
) where
    D::Error: std::fmt::Debug,
{
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function(id, |b| {
        b.iter_batched_ref(
            || BytesMut::from(data),
            |buf| {
                let mut codec = make();
                let mut frames = 0;
                while let Some(item) = codec.decode(buf).unwrap() {
                    black_box(item);
                    frames += 1;
                }
                while let Some(item) = codec.decode_eof(buf).unwrap() {
                    black_box(item);
                    frames += 1;
                }
                assert_eq!(frames, n);
            },
            BatchSize::LargeInput,
        )
    });
}

/// `FrameCodec::decode_in_place` over a `BytesMut` copy of the data, advanced once at the end,
/// as `listen` reads a connection (the copy is not timed).
fn bench_in_place(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    framing: &Framing,
    data: &[u8],
    n: usize,
) {
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function(id, |b| {
        b.iter_batched_ref(
            || BytesMut::from(data),
            |buf| {
                let mut codec = FrameCodec::new(framing, MAX_LEN);
                let mut frames = 0;
                for eof in [false, true] {
                    let used = codec.decode_in_place(buf, eof, |item| {
                        black_box(item.bytes());
                        frames += 1;
                        true
                    });
                    buf.advance(used);
                }
                assert_eq!(frames, n);
            },
            BatchSize::LargeInput,
        )
    });
}

fn decoding(c: &mut Criterion) {
    for size in [100, 1024] {
        let msgs = messages(size);
        let n = msgs.len();
        let mut lf = Vec::new();
        let mut octet = Vec::new();
        for m in &msgs {
            encode::lf(m.as_bytes(), Escape::Raw, &mut lf);
            encode::octet_counted(m.as_bytes(), &mut octet);
        }
        let mut group = c.benchmark_group(format!("decode/{n}x{}", label(size)));

        group.throughput(Throughput::Bytes(lf.len() as u64));
        group.bench_function("memchr/lf", |b| {
            b.iter(|| assert_eq!(memchr_scan(black_box(&lf)), n))
        });
        for (id, framing, data) in [
            ("syslogkit/lf", Framing::Lf, &lf),
            ("syslogkit/auto-lf", Framing::Auto, &lf),
            ("syslogkit/octet", Framing::OctetCounting, &octet),
            ("syslogkit/auto-octet", Framing::Auto, &octet),
        ] {
            group.throughput(Throughput::Bytes(data.len() as u64));
            group.bench_function(id, |b| {
                b.iter(|| assert_eq!(decode_slice(&framing, black_box(data)), n))
            });
        }
        bench_codec(&mut group, "syslogkit-codec/lf", &lf, n, || {
            FrameCodec::new(&Framing::Lf, MAX_LEN)
        });
        bench_codec(&mut group, "syslogkit-codec/octet", &octet, n, || {
            FrameCodec::new(&Framing::OctetCounting, MAX_LEN)
        });
        for (id, framing, data) in [
            ("syslogkit-codec-in-place/lf", Framing::Lf, &lf),
            (
                "syslogkit-codec-in-place/octet",
                Framing::OctetCounting,
                &octet,
            ),
        ] {
            bench_in_place(&mut group, id, &framing, data, n);
        }
        bench_codec(&mut group, "tokio-util/LinesCodec", &lf, n, || {
            LinesCodec::new_with_max_length(MAX_LEN)
        });
        bench_codec(&mut group, "tokio-util/AnyDelimiterCodec", &lf, n, || {
            AnyDelimiterCodec::new_with_max_length(b"\n".to_vec(), b"\n".to_vec(), MAX_LEN)
        });
        group.finish();
    }
}

fn encoding(c: &mut Criterion) {
    for size in [100, 1024] {
        let msgs = messages(size);
        let n = msgs.len();
        let bytes: usize = msgs.iter().map(String::len).sum();
        let mut group = c.benchmark_group(format!("encode/{n}x{}", label(size)));
        group.throughput(Throughput::Bytes(bytes as u64));
        let mut out: Vec<u8> = Vec::with_capacity(bytes * 2);

        group.bench_function("memcpy/lf", |b| {
            b.iter(|| {
                out.clear();
                for m in &msgs {
                    out.extend_from_slice(m.as_bytes());
                    out.push(b'\n');
                }
                black_box(out.len())
            })
        });
        group.bench_function("syslogkit/lf", |b| {
            b.iter(|| {
                out.clear();
                for m in &msgs {
                    encode::lf(m.as_bytes(), Escape::ControlCharacters, &mut out);
                }
                black_box(out.len())
            })
        });
        group.bench_function("syslogkit/lf-raw", |b| {
            b.iter(|| {
                out.clear();
                for m in &msgs {
                    encode::lf(m.as_bytes(), Escape::Raw, &mut out);
                }
                black_box(out.len())
            })
        });
        group.bench_function("syslogkit/octet", |b| {
            b.iter(|| {
                out.clear();
                for m in &msgs {
                    encode::octet_counted(m.as_bytes(), &mut out);
                }
                black_box(out.len())
            })
        });

        let mut dst = BytesMut::with_capacity(bytes * 2);
        let mut codec = FrameCodec::new(&Framing::Lf, MAX_LEN);
        group.bench_function("syslogkit-codec/lf", |b| {
            b.iter(|| {
                dst.clear();
                for m in &msgs {
                    codec.encode(m.as_bytes(), &mut dst).unwrap();
                }
                black_box(dst.len())
            })
        });
        let mut codec = FrameCodec::new(&Framing::OctetCounting, MAX_LEN);
        group.bench_function("syslogkit-codec/octet", |b| {
            b.iter(|| {
                dst.clear();
                for m in &msgs {
                    codec.encode(m.as_bytes(), &mut dst).unwrap();
                }
                black_box(dst.len())
            })
        });
        let mut lines = LinesCodec::new();
        group.bench_function("tokio-util/LinesCodec", |b| {
            b.iter(|| {
                dst.clear();
                for m in &msgs {
                    lines.encode(m.as_str(), &mut dst).unwrap();
                }
                black_box(dst.len())
            })
        });
        let mut any = AnyDelimiterCodec::new(b"\n".to_vec(), b"\n".to_vec());
        group.bench_function("tokio-util/AnyDelimiterCodec", |b| {
            b.iter(|| {
                dst.clear();
                for m in &msgs {
                    any.encode(m.as_str(), &mut dst).unwrap();
                }
                black_box(dst.len())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, decoding, encoding);
criterion_main!(benches);
