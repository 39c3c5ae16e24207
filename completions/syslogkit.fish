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
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "generate-docs" -d 'Write the man pages and shell completions (for maintainers)'
complete -c syslogkit -n "__fish_syslogkit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -s F -l format -d 'How to read each line: \'auto\' takes RFC 5424 when the line starts \'<PRI>VERSION \', else RFC 3164; \'raw\' does not parse (message = line)' -r -f -a "auto\t''
rfc5424\t''
rfc3164\t''
raw\t''"
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l year -d 'Year for RFC 3164 stamps, which have none [default: the current year, or the previous one for a stamp more than a day in the future]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l timezone -d 'Zone of stamps without an offset: an IANA name (Europe/Berlin), an offset (+02:00), UTC, or \'local\' (the machine\'s zone; TZ is honoured)' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l dataset -d 'Set event.dataset on every event (Elastic\'s rule: no \'-\')' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l max-message-size -d 'Longest line kept whole; a longer one becomes an error event with its first part. Units: KiB, MiB, KB, MB' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -s j -l jobs -d 'Threads that parse in parallel; output keeps input order [default: number of cores]' -r
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l keep-original -d 'Add event.original (the raw line) to events that parsed; failed ones always have it'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l strict -d 'Exit with status 1 when any line failed to parse'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -l stats -d 'Print a summary (lines, errors, bytes, rate) on stderr at the end'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand parse" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand generate-docs" -s h -l help -d 'Print help'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand generate-docs" -s V -l version -d 'Print version'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse generate-docs help" -f -a "parse" -d 'Parse syslog lines into ECS JSON events, one event per input line'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse generate-docs help" -f -a "generate-docs" -d 'Write the man pages and shell completions (for maintainers)'
complete -c syslogkit -n "__fish_syslogkit_using_subcommand help; and not __fish_seen_subcommand_from parse generate-docs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
