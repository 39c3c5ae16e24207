"""Reads every record of the given topics from the beginning with kafka-python (a client
independent of librdkafka) and prints one JSON object a record:
{"topic", "partition", "offset", "key", "headers", "value"}, partition by partition in offset
order.

usage: consume.py BROKERS TOPIC[,TOPIC...] MIN_RECORDS TIMEOUT_SECONDS

With CONSUME_TLS_DIR set, over TLS with ca.pem, client.pem and client.key from that directory.

Reads until MIN_RECORDS came and then nothing more for 2 s (so duplicates beyond MIN_RECORDS are
seen too), or the timeout; exits 1 when fewer than MIN_RECORDS came.
"""

import json
import os
import sys
import time

from kafka import KafkaConsumer, TopicPartition

brokers, topics, want, timeout = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), float(sys.argv[4])
deadline = time.time() + timeout
tls = {}
if os.environ.get("CONSUME_TLS_DIR"):
    d = os.environ["CONSUME_TLS_DIR"]
    tls = dict(security_protocol="SSL", ssl_cafile=f"{d}/ca.pem", ssl_certfile=f"{d}/client.pem",
               ssl_keyfile=f"{d}/client.key")
consumer = KafkaConsumer(
    bootstrap_servers=brokers.split(","),
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    consumer_timeout_ms=8000,
    **tls,
)


def partitions():
    found = []
    for topic in topics:
        consumer.topics()  # refreshes metadata
        for p in sorted(consumer.partitions_for_topic(topic) or []):
            found.append(TopicPartition(topic, p))
    return found


parts = []
while time.time() < deadline and not parts:
    parts = partitions()
    if not parts:
        time.sleep(0.2)
consumer.assign(parts)
for tp in parts:
    consumer.seek(tp, 0)
# tansu 0.6 answers ListOffsets with the last batch's base offset + 1, not the end offset, so
# end offsets cannot say when everything was read: read until MIN_RECORDS came, then until
# nothing more comes for IDLE seconds (duplicates come within that), or the timeout.
IDLE = 2.0
records = {tp: [] for tp in parts}
count, last = 0, time.time()
while time.time() < deadline and (count < want or time.time() - last < IDLE):
    for tp, batch in consumer.poll(timeout_ms=200).items():
        records[tp].extend(batch)
        count += len(batch)
        last = time.time()
for tp in parts:
    for m in records[tp]:
        print(json.dumps({
            "topic": m.topic,
            "partition": m.partition,
            "offset": m.offset,
            "key": None if m.key is None else m.key.decode("utf-8", "replace"),
            "headers": {k: v.decode("utf-8", "replace") for k, v in (m.headers or [])},
            "value": m.value.decode("utf-8", "replace"),
        }))
if count < want:
    sys.exit(f"consume.py: {count} records in {topics} after {timeout} s, expected at least {want}")
