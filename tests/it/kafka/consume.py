"""Reads every record of the given topics from the beginning with kafka-python (a client
independent of librdkafka) and prints one JSON object a record:
{"topic", "partition", "offset", "key", "headers", "value"}, partition by partition in offset
order.

usage: consume.py BROKERS TOPIC[,TOPIC...] MIN_RECORDS TIMEOUT_SECONDS

Waits until the topics' end offsets add up to at least MIN_RECORDS (or the timeout), then reads
every partition up to its end offset, so duplicates beyond MIN_RECORDS are seen too. Exits 1
when the end offsets or the records read fall short within the timeout.
"""

import json
import sys
import time

from kafka import KafkaConsumer, TopicPartition

brokers, topics, want, timeout = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), float(sys.argv[4])
deadline = time.time() + timeout
consumer = KafkaConsumer(
    bootstrap_servers=brokers.split(","),
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    consumer_timeout_ms=8000,
)


def partitions():
    found = []
    for topic in topics:
        consumer.topics()  # refreshes metadata
        for p in sorted(consumer.partitions_for_topic(topic) or []):
            found.append(TopicPartition(topic, p))
    return found


parts, ends = [], {}
while time.time() < deadline:
    parts = partitions()
    if parts:
        ends = consumer.end_offsets(parts)
        if sum(ends.values()) >= want:
            break
    time.sleep(0.2)
if sum(ends.values()) < want:
    sys.exit(f"consume.py: the topics {topics} hold {sum(ends.values())} records, expected at least {want}")

consumer.assign(parts)
for tp in parts:
    consumer.seek(tp, 0)
records = {tp: [] for tp in parts}
while time.time() < deadline and any(consumer.position(tp) < ends[tp] for tp in parts):
    for tp, batch in consumer.poll(timeout_ms=500).items():
        records[tp].extend(batch)
for tp in parts:
    for m in records[tp]:
        if m.offset >= ends[tp]:
            continue
        print(json.dumps({
            "topic": m.topic,
            "partition": m.partition,
            "offset": m.offset,
            "key": None if m.key is None else m.key.decode("utf-8", "replace"),
            "headers": {k: v.decode("utf-8", "replace") for k, v in (m.headers or [])},
            "value": m.value.decode("utf-8", "replace"),
        }))
short = [tp for tp in parts if consumer.position(tp) < ends[tp]]
if short:
    sys.exit(f"consume.py: partitions {short} not read to their end within {timeout} s")
