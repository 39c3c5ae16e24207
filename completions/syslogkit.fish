# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_syslogkit_global_optspecs
    string join \n h/help V/version
end

function __fish_syslogkit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_syslogkit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_syslogkit_using_subcommand
    set -l cmd (__fish_syslogkit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c syslogkit -n "__fish_syslogkit_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "parse" -d 'Parse syslog lines into ECS JSON events, one event per input line'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "frame" -d 'Format events as syslog messages and frame them, or cut a syslog byte stream into events'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "listen" -d 'Receive syslog over TCP, UDP, TLS and RELP and write one ECS JSON event per message'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "iptables-rule-gen" -d 'Generate netfilter LOG rules and the matching rsyslog / syslog-ng forwarding config'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "send" -d 'Send syslog messages to receivers over UDP, TCP, TLS or RELP, like logger, with load balancing, backpressure and a disk queue like Cribl Stream\'s Syslog destination'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "bench" -d 'Load-test a syslog receiver over TCP, TLS or UDP, with a marker in every message that \'bench verify\' finds again in the receiver\'s output'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "generate-docs" -d 'Write the man pages and shell completions (for maintainers)'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -s F -l format -d 'How to read each line: \'auto\' takes RFC 5424 when the line starts \'<PRI>VERSION \', else RFC 3164, and adds the netfilter fields when the message is an iptables/nftables LOG line; \'iptables\' wants a LOG line in every line (behind a syslog header, or bare as dmesg and journalctl write them) and makes any other line an error; \'raw\' does not parse (message = line)' -r -f -a "auto\t'RFC 5424 or RFC 3164 by the line\'s start, plus netfilter fields when present'
rfc5424\t'RFC 5424 only'
rfc3164\t'RFC 3164 (BSD) only'
iptables\t'netfilter LOG lines (iptables, nftables, ufw, firewalld), with or without a syslog header'
raw\t'No parsing: message = line'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l timezone -d 'Zone of stamps without an offset: an IANA name (Europe/Berlin), an offset (+02:00), UTC, or \'local\' (the machine\'s zone; TZ is honoured)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l year -d 'Year for RFC 3164 stamps, which have none, 1970 to 9999 [default: the current year, or the previous one for a stamp more than a day in the future]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l dataset -d 'Set event.dataset and data_stream.dataset on every event (Elastic\'s rule: no \'-\'); without it, netfilter LOG events get iptables.log' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l max-message-size -d 'Longest message kept whole; a longer one becomes an error event with its first part (when \'frame\' encodes: a longer input line is skipped with an error). Units: KiB, MiB, KB, MB' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -s j -l jobs -d 'Threads that parse in parallel; output keeps input order [default: number of cores]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l keep-original -d 'Add event.original (the raw line) to events that parsed; failed ones always have it'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l strict -d 'Exit with status 1 when any line failed to parse'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l stats -d 'Print a summary (lines, errors, bytes, rate) on stderr at the end'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l framing -d 'How messages are framed: \'lf\' (LF after each, a CR before it dropped when decoding), \'octet-counting\' (RFC 6587 \'LEN SP MSG\'), \'delimiter\' (--delimiter after each), or, to decode only, \'auto\' (octet counting when a message starts with a digit, else LF) [default: lf; with --decode: auto]' -r -f -a "lf\t'Each message ends with LF'
delimiter\t'Each message ends with --delimiter'
octet-counting\t'RFC 6587 octet counting: MSG-LEN SP MSG'
auto\t'Decoding only: octet counting when a message starts with a digit, else LF'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l delimiter -d 'The delimiter for --framing delimiter: \'\\0\', \'\\r\\n\', \'\\x1e\', \'|\' (escapes \\0 \\n \\r \\t \\\\ \\xHH)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l timezone -d 'Zone of the times written (encoding), or of stamps without an offset (decoding): an IANA name (Europe/Berlin), an offset (+02:00), UTC, or \'local\' (the machine\'s zone; TZ is honoured)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l format -d 'Message format: \'rfc3164\' (\'<PRI>Mmm dd hh:mm:ss HOST APP[PID]: MSG\', what logger sends), \'rfc5424\' (\'<PRI>1 TIME HOST APP PROCID MSGID SD MSG\'), \'raw\' (the message alone). With --decode, --parse picks the parser' -r -f -a "rfc3164\t'`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, what logger(1) and most devices send'
rfc5424\t'`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`'
raw\t'The message text alone, no header'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l input -d 'What the input lines are: \'auto\' (a line starting with \'{\' is a JSON event, any other line is text that becomes the message), \'json\' (every line is an event), \'raw\' (every line is text)' -r -f -a "auto\t'A line starting with `{` (after blanks) is a JSON event, anything else is text'
json\t'Every line is a JSON object (an event)'
raw\t'Every line is text that becomes the message'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l facility -d 'Facility of messages whose event has none: a keyword (local0, daemon, authpriv) or 0-23 [default: user]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l severity -d 'Severity of messages whose event has none: a keyword (err, warning, warn, info) or 0-7 [default: notice]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l appname -d 'App name (RFC 3164 tag) of messages whose event has none' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l hostname -d 'Hostname of messages whose event has none [default: this machine\'s name]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l timestamp-format -d 'RFC 3164 time: \'syslog\' (Mmm dd hh:mm:ss) or \'iso8601\' (RFC 3339 with the offset, as rsyslog forwards). RFC 5424 always writes RFC 3339' -r -f -a "syslog\t'`Mmm dd hh:mm:ss`, day padded with a space, no year (RFC 3164 §4.1.2)'
iso8601\t'RFC 3339 with the zone\'s offset and the fraction the time has (rsyslog\'s forward format)'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l parse -d 'How to parse each decoded message: the parsers of \'syslogkit parse --format\'' -r -f -a "auto\t'RFC 5424 or RFC 3164 by the line\'s start, plus netfilter fields when present'
rfc5424\t'RFC 5424 only'
rfc3164\t'RFC 3164 (BSD) only'
iptables\t'netfilter LOG lines (iptables, nftables, ufw, firewalld), with or without a syslog header'
raw\t'No parsing: message = line'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l year -d 'Year for RFC 3164 stamps, which have none, 1970 to 9999 [default: the current year, or the previous one for a stamp more than a day in the future]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l dataset -d 'Set event.dataset and data_stream.dataset on every event (Elastic\'s rule: no \'-\'); without it, netfilter LOG events get iptables.log' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l max-message-size -d 'Longest message kept whole; a longer one becomes an error event with its first part (when \'frame\' encodes: a longer input line is skipped with an error). Units: KiB, MiB, KB, MB' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -s j -l jobs -d 'Threads that parse in parallel; output keeps input order [default: number of cores]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -s d -l decode -d 'Decode: cut a syslog byte stream into messages and write one JSON event per message'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l raw-control-chars -d 'With lf or delimiter framing, send control characters (LF, CR, NUL...) as they are instead of rsyslog\'s escapes (#012 for LF); a message containing the delimiter then arrives as several. Octet counting always sends every byte as it is'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l ignore-errors -d 'Exit with status 0 even when lines were skipped (they are still reported on stderr)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -l keep-original -d 'Add event.original (the raw line) to events that parsed; failed ones always have it'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand frame" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l tcp -d 'Listen for TCP on ADDR:PORT ([::1]:5514 for IPv6); repeatable' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l udp -d 'Listen for UDP on ADDR:PORT; repeatable' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l tls -d 'Listen for TLS over TCP on ADDR:PORT (needs --tls-cert and --tls-key); repeatable' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l relp -d 'Listen for RELP (rsyslog\'s omrelp) on ADDR:PORT; each message is acknowledged once its event is written (and flushed). Repeatable' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l relp-tls -d 'Listen for RELP over TLS on ADDR:PORT (needs --tls-cert and --tls-key); repeatable' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l tls-cert -d 'Server certificate chain (PEM) for --tls and --relp-tls' -r -F
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l tls-key -d 'Private key (PEM: PKCS#8, PKCS#1 or SEC1) of --tls-cert' -r -F
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l tls-client-ca -d 'CA certificates (PEM): require every TLS client to present a certificate they sign (mutual TLS); clients without one are refused' -r -F
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l tls-min-version -d 'Oldest TLS version accepted: 1.2 or 1.3' -r -f -a "1.2\t''
1.3\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l framing -d 'How TCP and TLS streams are cut into messages: \'auto\' takes a message starting with a digit as octet-counted (RFC 6587 "LEN SP MSG") and any other as ending with LF, message by message, as rsyslog does; \'lf\'; \'octet-counting\'; \'delimiter\' (with --delimiter). UDP is always one message per datagram' -r -f -a "lf\t'Each message ends with LF'
delimiter\t'Each message ends with --delimiter'
octet-counting\t'RFC 6587 octet counting: MSG-LEN SP MSG'
auto\t'Decoding only: octet counting when a message starts with a digit, else LF'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l delimiter -d 'The delimiter of --framing delimiter: \\0, \\r\\n, \\x1e or any text' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l parse -d 'How to read each message, as \'syslogkit parse --format\'' -r -f -a "auto\t'RFC 5424 or RFC 3164 by the line\'s start, plus netfilter fields when present'
rfc5424\t'RFC 5424 only'
rfc3164\t'RFC 3164 (BSD) only'
iptables\t'netfilter LOG lines (iptables, nftables, ufw, firewalld), with or without a syslog header'
raw\t'No parsing: message = line'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l timezone -d 'Zone of stamps without an offset: an IANA name (Europe/Berlin), an offset (+02:00), UTC, or \'local\' (the machine\'s zone; TZ is honoured)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l year -d 'Year for RFC 3164 stamps, which have none, 1970 to 9999 [default: the current year, or the previous one for a stamp more than a day in the future]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l dataset -d 'Set event.dataset and data_stream.dataset on every event (Elastic\'s rule: no \'-\'); without it, netfilter LOG events get iptables.log' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l max-message-size -d 'Longest message kept whole; a longer one becomes an error event with its first part (when \'frame\' encodes: a longer input line is skipped with an error). Units: KiB, MiB, KB, MB' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -s o -l output -d 'Write the events to FILE (created or truncated) instead of stdout' -r -F
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l max-connections -d 'Most TCP and TLS connections open at once; beyond it new ones are closed at once and counted, the open ones untouched' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l max-connections-per-source -d 'Most TCP and TLS connections open at once from one IP address; beyond it new ones from that address are closed at once and counted, so one source cannot take every slot. Default: no limit but --max-connections' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l idle-timeout -d 'Close a connection that sent nothing for this long (300s, 5m, 500ms; 0: never)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l frame-timeout -d 'Close a connection whose message under way is not finished this long after its first byte (a drip-feed, which --idle-timeout cannot see); the part received becomes an event with error.message. 0: never' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l max-buffered-bytes -d 'Most memory all connections together may hold in unfinished messages (KiB, MiB, GiB); beyond it the largest are cut short into events with error.message and the rest of each is skipped. Default: an eighth of the memory, at most 1GiB' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l on-output-error -d 'When the output is full (no space left, quota, file size limit): \'retry\' holds the events, holds back TCP senders and writes again when there is room; \'exit\' stops with status 2. Either way no line is left half written. A broken output (closed pipe) always stops listen with status 2 and a count of the messages not written' -r -f -a "retry\t'Keep the events, warn, and try again until there is room; meanwhile the queue fills and TCP and TLS senders are held back, as rsyslog\'s queues do'
exit\t'Stop `listen` (exit status 2) with no partial line in the output'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l recv-buffer-size -d 'SO_RCVBUF of the sockets (SO_RCVBUFFORCE for UDP where permitted, else the kernel caps it at net.core.rmem_max). Units: KiB, MiB. Default: the system\'s for TCP, 8MiB for UDP, so that a burst fits; the startup lines say what the kernel granted' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l stats -d 'Print connections, messages/s, bytes/s, parse errors and drops on stderr this often (10s, 1m)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l workers -d 'Threads receiving and parsing, and TCP/TLS listening sockets per address (SO_REUSEPORT: the kernel spreads new connections over them); 0: one per core. Events of one connection stay in order; one writer writes them all' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l metrics -d 'Serve Prometheus metrics at http://ADDR:PORT/metrics and a health check at /health (200 while accepting, 503 while draining for shutdown)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l shutdown-delay -d 'On SIGTERM or SIGINT, answer /health with 503 but keep receiving this long (10s, 500ms) before draining, so that a balancer\'s health check stops new traffic first; a second signal cuts it short' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l proxy-protocol -d 'Behind an L4 balancer: read the PROXY protocol header it sends first on every TCP and TLS connection (before the TLS handshake), so that source.ip and source.port are the original client\'s and the balancer\'s address goes to source.nat.ip and source.nat.port. \'auto\' takes either version; a header is required either way, never guessed' -r -f -a "off\t'No PROXY header: the connection\'s peer is the sender'
v1\t'The text header (haproxy send-proxy)'
v2\t'The binary header (haproxy send-proxy-v2, AWS NLB)'
auto\t'Either version'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l proxy-protocol-from -d 'The balancers\' addresses (CIDR, comma-separated): only these peers may send a PROXY header; any other connection is closed, since its header could forge any source' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l keep-original -d 'Add event.original (the raw line) to events that parsed; failed ones always have it'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -l reuse-port -d 'Open one UDP socket per core on each --udp address (SO_REUSEPORT), so the kernel spreads datagrams over them'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand listen" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l backend -d 'Packet filter to write rules for: iptables (IPv4), ip6tables (IPv6), both (the same chain for each), or nftables (one native \'table inet\' for both families)' -r -f -a "iptables\t'`iptables` (IPv4)'
ip6tables\t'`ip6tables` (IPv6)'
both\t'`iptables` and `ip6tables`: the same chain for both families'
nftables\t'Native nftables: one `table inet` for both families'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l chain -d 'Name of the LOG chain: letters, digits, \'_\' and \'-\', 1-28 bytes, not a built-in chain or target name' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l prefix -d 'Text the kernel puts before each logged packet; the forwarding filters look for exactly these bytes. iptables keeps 1-29 bytes, nftables 1-127; letters, digits, space and _ . : - [ ] / # , + ( ). End it with \': \' or \'] \'' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l log-level -d 'Syslog severity of the logged lines: 0-7 or a name (emerg, alert, crit, error/err, warning/warn, notice, info, debug), written as each backend spells it' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l limit -d 'Log at most this many packets: N/second, N/minute, N/hour or N/day (also /sec, /s, /min, /m, /h, /d; /week for nftables only), at most 10000/second' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l limit-burst -d 'Packets logged at once before --limit applies, 0-10000 (nftables: 1-10000) [default: 5]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l action -d 'What happens to a packet after it was logged (LOG itself lets it pass, so this is a second rule)' -r -f -a "drop\t''
reject\t''
accept\t''
return\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l apply-to -d 'Built-in chain that jumps to the LOG chain: INPUT, FORWARD or OUTPUT; repeat for more than one [default: INPUT]. The jump is appended at the end of the built-in chain' -r -f -a "INPUT\t''
FORWARD\t''
OUTPUT\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l protocol -d 'Jump only for this transport protocol (icmp means ICMPv6 for IPv6)' -r -f -a "tcp\t''
udp\t''
icmp\t'ICMP for IPv4, ICMPv6 for IPv6'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l dport -d 'Jump only for these destination ports: 22, 6000:6010 or 6000-6010; repeat or separate with commas. Needs --protocol tcp or udp' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l sport -d 'Jump only for these source ports, as --dport' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l source -d 'Jump only for packets from these ranges: 192.0.2.0/24, 2001:db8::/32 or an address; repeat or separate with commas. With --backend both, give a range for each family' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l in-interface -d 'Jump only for packets that came in on this interface (eth0; eth+ for every name starting eth). Not with --apply-to OUTPUT' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l out-interface -d 'Jump only for packets that leave on this interface. Not with --apply-to INPUT' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l accept-port -d 'Accept new connections to this port on INPUT just before the jump: 22 (TCP), 53/udp, 6000:6010/tcp; repeat or separate with commas' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l form -d 'iptables / ip6tables output: \'restore\', a file for iptables-restore --noflush plus a script that checks the chains, then loads it and adds the jumps in one transaction (atomic, safe to rerun), or \'script\', plain iptables commands after the same checks [default: restore]. nftables always gets an nft file and a script; an undo is always a script' -r -f -a "restore\t'An `iptables-restore --noflush` file plus a hook script that checks the chains, then loads it and adds the jumps in the same transaction: atomic, rerunnable'
script\t'One shell script of plain commands, after the same checks'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l nft-table -d 'nftables: your own table (family inet) whose base chains (named after their hooks: input, forward, output, unless --nft-base-chain says otherwise) jump to the LOG chain; the LOG chain is added to it. It must exist already: nothing here makes a base chain, because a drop in a base chain of its own would be final, whatever your table accepts' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l nft-base-chain -d 'nftables: the name of your base chain on a hook when it is not named after the hook: input=INPUT, forward=fwd, output=OUTPUT; repeat for each hook' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l forward-to -d 'Write rsyslog and syslog-ng config that forwards the logged lines to HOST:PORT (an IPv6 address in brackets: [2001:db8::10]:9001)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l forward-protocol -d 'Transport for forwarding: tcp (the sender notices outages and queues) or udp (lines sent while the receiver is down are lost)' -r -f -a "tcp\t'TCP: the sender notices a broken connection and queues; the default'
udp\t'UDP: fire and forget; lost lines are not noticed'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l rsyslog-form -d 'rsyslog syntax: \'rainerscript\', an omfwd action with a disk-assisted queue that keeps lines through outages, or \'selector\', the short \'if … then @@host:port\' and \'& stop\'' -r -f -a "selector\t'`if … then @@host:port` and `& stop`: short, but lines are lost while the receiver is down'
rainerscript\t'`action(type="omfwd" …)` with a disk-assisted queue that keeps lines while the receiver is down and across restarts'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l syslog-ng-source -d 'The syslog-ng source the forwarding log path reads (Debian: s_src, RHEL: s_sys)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l output-dir -d 'Write every file and a README of how to apply them into DIR (created if missing; files of the same name are replaced) instead of printing them' -r -F
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l no-limit -d 'Log every packet: no rate limit'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l accept-established -d 'Accept packets of established and related connections just before the jump, on every chain it is added to, so open connections (your SSH session) survive; also TCP packets other than a SYN that conntrack sees as new, which is how it picks up a connection that was open before any stateful rule existed. Without it the generated script refuses unless the chain accepts established traffic already or drops by policy'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l accept-loopback -d 'Accept everything on the loopback interface (INPUT -i lo, OUTPUT -o lo) just before the jump, so local services talking over 127.0.0.1 are not dropped'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l log-tcp-sequence -d 'Log TCP sequence numbers (a risk if users can read the log)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l log-tcp-options -d 'Log TCP header options'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l log-ip-options -d 'Log IP header options'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l log-uid -d 'Log the user id of the process that sent a locally generated packet'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l log-macdecode -d 'Decode MAC addresses (MACSRC=, MACDST=, MACPROTO=) instead of the raw MAC= bytes'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -l undo -d 'Write what removes exactly what the same command without --undo adds'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand iptables-rule-gen" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s f -l file -d 'Read messages from FILE, one per line (\'-\': stdin)' -r -F
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s n -l server -d 'Receiver (logger\'s -n): with it, UDP to port 514 unless -T, -P or --protocol' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s P -l port -d 'Port for -n [default: 514; 6514 for TLS]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l to -d 'Receivers HOST:PORT, comma-separated (a:514,b:514) or repeated, for load balancing; each may be followed by its options: weight=N (default 1), tls=off (plain TCP even with --protocol tls) or tls=inherit, servername=NAME (its TLS name, instead of --tls-servername or the host). A name stands for every address it resolves to' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s u -l socket -d 'Write to this unix socket, datagram or stream (logger\'s -u), e.g. an rsyslog imuxsock; without any receiver, send writes to /dev/log' -r -F
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l protocol -d 'Transport [default: udp with -n, as logger; tcp with --to, as Cribl]; relp and relp-tls wait for the receiver\'s acknowledgement of each message' -r -f -a "tcp\t''
udp\t''
tls\t''
relp\t'RELP over TCP: every message acknowledged by the receiver'
relp-tls\t'RELP over TLS'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s p -l priority -d 'Priority \'facility.severity\' (local0.warning, daemon.err) or a severity alone (user facility) [default: user.notice]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s t -l tag -d 'App name / tag [default: syslogkit]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s i -l id -d 'Put a PROCID into text messages: \'-i\' or \'--id\' this process\'s id, \'--id=PID\' the one given' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l hostname -d 'Hostname of text messages [default: this machine\'s name]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l rfc5424 -d 'RFC 5424 messages; \'=notime\', \'=nohost\' leave the time or hostname out (comma-combinable, as logger\'s; \'notq\' is accepted: send writes no timeQuality element)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l format -d 'Message format' -r -f -a "rfc3164\t'`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, what logger(1) and most devices send'
rfc5424\t'`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`'
raw\t'The message text alone, no header'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l timestamp-format -d 'RFC 3164 time: \'syslog\' (Mmm dd hh:mm:ss) or \'iso8601\'' -r -f -a "syslog\t'`Mmm dd hh:mm:ss`, day padded with a space, no year (RFC 3164 §4.1.2)'
iso8601\t'RFC 3339 with the zone\'s offset and the fraction the time has (rsyslog\'s forward format)'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l timezone -d 'Zone of the times written: IANA name, offset, UTC or \'local\'' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l msgid -d 'MSGID of text messages; implies RFC 5424 (an error with --rfc3164)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l sd-id -d 'An SD-ID for text messages; repeatable, --sd-param adds to the last one. Implies RFC 5424 (an error with --rfc3164)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l sd-param -d 'A parameter NAME="VALUE" of the --sd-id before it' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l input -d 'What input lines are: \'auto\' (JSON objects are events, other lines text), \'json\', \'raw\'' -r -f -a "auto\t'A line starting with `{` (after blanks) is a JSON event, anything else is text'
json\t'Every line is a JSON object (an event)'
raw\t'Every line is text that becomes the message'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s S -l size -d 'Longest text message in bytes: longer lines are split into several messages, a longer argument message is cut (as logger) [default: no limit]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l framing -d 'TCP/TLS framing: \'lf\' or \'octet-counting\' (RFC 6587)' -r -f -a "lf\t'Each message ends with LF'
delimiter\t'Each message ends with --delimiter'
octet-counting\t'RFC 6587 octet counting: MSG-LEN SP MSG'
auto\t'Decoding only: octet counting when a message starts with a digit, else LF'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l max-record-size -d 'UDP: longest datagram; longer messages end in \'...\' and are counted (up to 65507; above 2048 a warning)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l lb-stats-period -d 'Load balancing: traffic is counted per period, half of it carried into the next' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l dns-resolution-period -d 'Resolve names again this often; every A/AAAA record is a destination' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l max-connections -d 'At most N connections at once (0: one per destination); the subset rotates every DNS period' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l proxy-protocol -d 'Start every TCP or TLS connection with a PROXY protocol header naming its own endpoints, as haproxy\'s send-proxy (v1) or send-proxy-v2 (v2) does: send stands in for a balancer in front of \'listen --proxy-protocol\'' -r -f -a "v1\t'The text header'
v2\t'The binary header'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l connect-timeout -d 'Connection (and TLS handshake) timeout' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l write-timeout -d 'A connection that takes nothing for this long is reset: what was written on it counts as not delivered, the rest goes elsewhere. After the end of input, send waits at most this long for destinations that take nothing' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l throttle -d 'Bytes per second at most, with units (42MB, 1.5MiB); 0: no limit' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l backpressure -d 'When no destination takes a message, or the throttle is reached: \'block\' (wait), \'drop\', or \'queue\' (to --queue-dir)' -r -f -a "block\t'Wait (reconnecting) until a destination takes it'
drop\t'Drop it, and count it'
queue\t'Write every message to the disk queue first (--queue-dir), and send from there'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l queue-dir -d 'Directory of the disk queue (--backpressure queue)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l queue-max-file-size -d 'Size at which a queue file is closed and a new one started' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l queue-max-size -d 'Most bytes the queue may hold [default: no limit but the disk]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l queue-compression -d 'Compress closed queue files: \'none\' or \'gzip\'' -r -f -a "none\t'As written'
gzip\t'gzip, once a file is closed'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l queue-full -d 'With a full queue: \'block\' (wait for room) or \'drop\'' -r -f -a "block\t'Wait for room'
drop\t'Drop the message, and count it'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l tls-ca -d 'CA certificates (PEM) to check the receiver\'s certificate [default: the system\'s]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l tls-servername -d 'Name sent as SNI and checked in the certificate [default: the host]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l tls-min-version -d 'Lowest TLS version: 1.2 or 1.3' -r -f -a "1.2\t''
1.3\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l tls-max-version -d 'Highest TLS version: 1.2 or 1.3' -r -f -a "1.2\t''
1.3\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l tls-cert -d 'Client certificate chain (PEM) for mutual TLS' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l tls-key -d 'Its private key (PEM; encrypted PKCS#8 needs a passphrase)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l tls-key-passphrase -d 'Passphrase of --tls-key [default: $SYSLOGKIT_TLS_KEY_PASSPHRASE]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-brokers -d 'Send records to these Kafka brokers instead of syslog messages to receivers: HOST:PORT[,HOST:PORT…] (the bootstrap list)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-topic -d 'Topic, or a template of event fields: \'logs-{event.dataset}\'' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-topic-fallback -d 'Topic of the lines that lack a field of --kafka-topic (or whose value is no topic name) [default: such lines are bad lines, skipped and reported]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-key -d 'Field whose value is the record key (e.g. source.ip): one key, one partition, in order. Events without it, and text lines, have no key' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-header -d 'A record header NAME=VALUE, VALUE a template (\'dataset={event.dataset}\'); left out when a field is missing. Repeatable' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-compression -d 'Compression of record batches' -r -f -a "none\t''
gzip\t''
snappy\t''
lz4\t'Fast, and what most Kafka producers use'
zstd\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-linger -d 'How long the client waits to fill a batch (linger.ms)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-batch-size -d 'Largest batch (batch.size)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-message-timeout -d 'How long the client retries a record before it fails (message.timeout.ms); 0: never, send decides at the end (see --write-timeout)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-sasl-mechanism -d 'SASL authentication (plain, scram-sha-256, scram-sha-512), with --kafka-sasl-username and the password in $SYSLOGKIT_KAFKA_SASL_PASSWORD' -r -f -a "plain\t'User and password in the clear (use it over TLS)'
scram-sha-256\t''
scram-sha-512\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-sasl-username -d 'SASL user name' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-sasl-password -d 'SASL password (better in the environment than on the command line)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l kafka-option -d 'Any librdkafka producer property KEY=VALUE, applied last (e.g. queue.buffering.max.messages=50000). Repeatable' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l stats -d 'A counters line on stderr this often (10s, 500ms), while reading and while delivering what is left at the end: "stats: <seconds since start> s: <N> lines, <N> messages, <N> sent (<N> bytes), <N> dropped, <N> queued, <N> not delivered, <N> truncated, <N> bad lines, <N> of <N> destinations up"' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l metrics -d 'Serve the delivery counters for Prometheus at http://ADDR:PORT/metrics and a health check at /health (200 while a destination is up)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l tags -d 'Labels for this sender, comma-separated: in the summary and as --metrics\' syslogkit_send_info{tags=...} (as Cribl\'s destination tags, not in the messages)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s T -l tcp -d 'Use TCP (logger\'s -T)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s d -l udp -d 'Use UDP (logger\'s -d)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l rfc3164 -d 'RFC 3164 messages (the default)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s e -l skip-empty -d 'Skip empty lines'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l prio-prefix -d 'A text line read from the input that starts with <N> (0-191) gets that priority, the prefix cut; with no facility in N, -p\'s (as logger)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l octet-count -d 'Octet counting (logger\'s --octet-count; also on UDP)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l exclude-self -d 'Leave out this machine\'s own addresses'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l queue-clear -d 'Delete what is queued before starting'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l tls-insecure -d 'Do not check the receiver\'s certificate (anyone can then read and change the traffic)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l dry-run -d 'Write the framed bytes to stdout instead of sending them; over UDP a line feed follows each datagram, to show where it ends (it is not sent)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s s -l stderr -d 'Also write each message to stderr, as sent (logger\'s -s)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -l no-act -d 'Do everything except write the messages: nothing is connected (logger\'s --no-act); with -s, see what would be sent'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand send" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l to -d 'The receiver: HOST:PORT' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l protocol -d 'The transport' -r -f -a "tcp\t''
udp\t''
tls\t''
relp\t'RELP over TCP: every message acknowledged by the receiver'
relp-tls\t'RELP over TLS'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -s c -l connections -d 'Connections sending at once (UDP: sockets)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -s n -l count -d 'Messages to send over all connections' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -s I -l duration -d 'How long to send (10s, 1m, 500ms); the default without --count is 10s. A write the receiver does not take is given up 5 s after the time is up (exit status 1)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -s r -l rate -d 'Messages per second over all connections (default: as fast as possible)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -s s -l size -d 'Bytes of each syslog message, header included, framing excluded' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l format -d 'The message format' -r -f -a "rfc3164\t'`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, what logger(1) and most devices send'
rfc5424\t'`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`'
raw\t'The message text alone, no header'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l framing -d 'lf or octet-counting (TCP and TLS; a UDP datagram is one message)' -r -f -a "lf\t'Each message ends with LF'
delimiter\t'Each message ends with --delimiter'
octet-counting\t'RFC 6587 octet counting: MSG-LEN SP MSG'
auto\t'Decoding only: octet counting when a message starts with a digit, else LF'"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l template -d 'Replay the lines of FILE, cycled, the marker put at the start of each one\'s message text (syslog lines keep their header fields, other lines become the message text)' -r -F
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l idle-connections -d 'TCP connections opened and held open without sending (TLS: after the handshake)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l reconnect-every -d 'Close and reopen each connection after every N messages' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l reconnect-timeout -d 'How long a lost connection keeps trying to open again before it stops (0: one try)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l tls-ca -d 'CA certificates (PEM) to check the receiver\'s certificate [default: the system\'s]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l tls-servername -d 'Name sent as SNI and checked in the certificate [default: the host]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l tls-min-version -d 'Lowest TLS version: 1.2 or 1.3' -r -f -a "1.2\t''
1.3\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l tls-max-version -d 'Highest TLS version: 1.2 or 1.3' -r -f -a "1.2\t''
1.3\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l tls-cert -d 'Client certificate chain (PEM) for mutual TLS' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l tls-key -d 'Its private key (PEM; encrypted PKCS#8 needs a passphrase)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l tls-key-passphrase -d 'Passphrase of --tls-key [default: $SYSLOGKIT_TLS_KEY_PASSPHRASE]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l rate-per-connection -d '--rate is per connection, as loggen\'s'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l json -d 'Print the report as one JSON object on stdout (the input of \'bench verify --sent\')'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -l tls-insecure -d 'Do not check the receiver\'s certificate (anyone can then read and change the traffic)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -f -a "verify" -d 'Read a receiver\'s output and report, per run and connection, which bench messages arrived'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and not __fish_seen_subcommand_from verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and __fish_seen_subcommand_from verify" -l run -d 'Only this run (the 8 hex digits after run=); others are counted and skipped' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and __fish_seen_subcommand_from verify" -l sent -d 'The \'bench --json\' report of the run, so messages lost at the end count as missing; once per sender when several bench runs sent to one receiver (each has its own run)' -r -F
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and __fish_seen_subcommand_from verify" -l json -d 'Print the result as one JSON object'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and __fish_seen_subcommand_from verify" -l receive-time-first -d 'Raw lines start with the receiver\'s own receive time (RFC 3339, then a space), for latency percentiles: rsyslog template "%timegenerated:::date-rfc3339% %rawmsg%\\n", syslog-ng template("${R_ISODATE} ${MSGHDR}${MSG}\\n") with frac-digits(6). Without it only JSON events (event.created) give latencies: the stamp that starts a default rsyslog or syslog-ng line is the sender\'s'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Read a receiver\'s output and report, per run and connection, which bench messages arrived'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand generate-docs" -s h -l help -d 'Print help'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand generate-docs" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse frame listen iptables-rule-gen send bench generate-docs help" -f -a "parse" -d 'Parse syslog lines into ECS JSON events, one event per input line'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse frame listen iptables-rule-gen send bench generate-docs help" -f -a "frame" -d 'Format events as syslog messages and frame them, or cut a syslog byte stream into events'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse frame listen iptables-rule-gen send bench generate-docs help" -f -a "listen" -d 'Receive syslog over TCP, UDP, TLS and RELP and write one ECS JSON event per message'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse frame listen iptables-rule-gen send bench generate-docs help" -f -a "iptables-rule-gen" -d 'Generate netfilter LOG rules and the matching rsyslog / syslog-ng forwarding config'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse frame listen iptables-rule-gen send bench generate-docs help" -f -a "send" -d 'Send syslog messages to receivers over UDP, TCP, TLS or RELP, like logger, with load balancing, backpressure and a disk queue like Cribl Stream\'s Syslog destination'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse frame listen iptables-rule-gen send bench generate-docs help" -f -a "bench" -d 'Load-test a syslog receiver over TCP, TLS or UDP, with a marker in every message that \'bench verify\' finds again in the receiver\'s output'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse frame listen iptables-rule-gen send bench generate-docs help" -f -a "generate-docs" -d 'Write the man pages and shell completions (for maintainers)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse frame listen iptables-rule-gen send bench generate-docs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "verify" -d 'Read a receiver\'s output and report, per run and connection, which bench messages arrived'
