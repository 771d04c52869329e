# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_syncdb_global_optspecs
    string join \n C/dir= json q/quiet v/verbose h/help V/version
end

function __fish_syncdb_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_syncdb_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_syncdb_using_subcommand
    set -l cmd (__fish_syncdb_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c syncdb -n "__fish_syncdb_needs_command" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_needs_command" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_needs_command" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_needs_command" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_needs_command" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_needs_command" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "init" -d 'Create a folder (or re-register an existing one) and print its id'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "put" -d 'Insert or replace a record and print its key; or import JSON Lines with --batch'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "patch" -d 'Merge top-level fields into a record (`null` removes a field)'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "get" -d 'Print a record\'s document'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "del" -d 'Delete a record'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "ls" -d 'List databases, the collections of a database, or the records of a collection'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "find" -d 'Find the records of a collection by their fields'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "drop" -d 'Drop a collection, or a whole database (every record in it)'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "watch" -d 'Print changes as JSON Lines as they commit'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "status" -d 'Show the daemon, folders, databases, record counts and remotes'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "folder" -d 'List, forget or move the folders registered with the daemon'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "remote" -d 'Manage the remotes this folder syncs with'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "clone" -d 'Make a local copy of a folder served by a hub, and sync it'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "sync" -d 'Sync with the folder\'s remotes, with progress, until caught up both ways'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "digest" -d 'Print a hash of each database\'s merged state: equal on converged replicas'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "repair" -d 'Move a damaged database file aside and pull the database again from the folder\'s remotes'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "serve" -d 'Serve this daemon\'s folders to remotes (a hub); kept across restarts'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "http" -d 'Serve the HTTP API for applications on ADDR; kept across restarts'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "token" -d 'Create, list and revoke the tokens remotes use to reach this hub'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "daemon" -d 'Run, start, stop or query the daemon'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "service" -d 'Run the daemon as a user service: systemd on Linux, launchd on macOS'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "config" -d 'Where the config is, what is in effect, and whether a file is valid'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "schema" -d 'Schemas: a database\'s name, version, collections, key paths, JSON Schemas and migrations'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "reset" -d 'Discard this replica of a database and pull it again from the folder\'s remotes'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "logs" -d 'Show the background daemon\'s log (rotated at 10 MiB, 3 kept)'
complete -c syncdb -n "__fish_syncdb_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand init" -l engine -d 'Engine for the folder\'s databases [default: the config\'s `engine`, redb]' -r -f -a "redb\t''
sqlite\t''"
complete -c syncdb -n "__fish_syncdb_using_subcommand init" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand init" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand init" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand init" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand init" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -l format -d 'What each line is: `auto` reads a record as `ls --json` prints it ({"key":..,"doc":{..}}) under its key and any other line as a document; `docs`: every line is a document; `records`: every line is a record (extra fields such as seq and version are ignored)' -r -f -a "auto\t''
docs\t''
records\t''"
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -l key-field -d 'Take each document\'s key from field F (dotted for a field inside an object: `meta.id`) [default: `daemon.key_path`, `_id`]' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -l batch -d 'Import JSON Lines: one document per line, all in one transaction'
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -l dry-run -d 'Read and check every line, print how many records would be imported, and write nothing'
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand put" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand patch" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand patch" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand patch" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand patch" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand patch" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand patch" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand get" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand get" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand get" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand get" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand get" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand get" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand del" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand del" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand del" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand del" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand del" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand del" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -l prefix -d 'Only records whose key starts with P' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -l limit -d 'At most N records' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -l keys -d 'Print keys only'
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -l all -d 'With no address: list dropped databases too'
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand ls" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -l where -d 'A condition, FIELD OP VALUE (repeat for more: all must hold)' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -l order-by -d 'Sort by this field (then by key) instead of by key' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -l limit -d 'At most N records in this page' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -l cursor -d 'Continue after the page that gave this cursor' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -l desc -d 'Largest first'
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -l count -d 'Print how many records match, not the records'
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -l explain -d 'Print how the query ran (what it read, what matched), not the records (with --count, the count too)'
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand find" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand drop" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand drop" -s y -l yes -d 'Do not ask: drop even if it removes records (for scripts)'
complete -c syncdb -n "__fish_syncdb_using_subcommand drop" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand drop" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand drop" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand drop" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand drop" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand watch" -l since -d 'Replay the feed after this seq first (needs DB: seqs are per database)' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand watch" -l where -d 'A live query\'s condition, FIELD OP VALUE (repeat: all must hold)' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand watch" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand watch" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand watch" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand watch" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand watch" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand watch" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand status" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand status" -l all -d 'List dropped databases too'
complete -c syncdb -n "__fish_syncdb_using_subcommand status" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand status" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand status" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand status" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand status" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -f -a "ls" -d 'List registered folders: id, path, engine, remotes, whether the path is there'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -f -a "rm" -d 'Forget a folder: stop syncing it and unregister it; its files stay unless --delete-files'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -f -a "mv" -d 'Move a folder and keep it registered; or re-point one moved by hand'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and not __fish_seen_subcommand_from ls rm mv help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from ls" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from ls" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from rm" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from rm" -l delete-files -d 'Also delete its databases and .syncdb/'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from rm" -s y -l yes -d 'Do not ask before deleting files (for scripts)'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from rm" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from mv" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from mv" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from mv" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from mv" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from mv" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from mv" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List registered folders: id, path, engine, remotes, whether the path is there'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Forget a folder: stop syncing it and unregister it; its files stay unless --delete-files'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from help" -f -a "mv" -d 'Move a folder and keep it registered; or re-point one moved by hand'
complete -c syncdb -n "__fish_syncdb_using_subcommand folder; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -f -a "add" -d 'Add (or replace) a remote and start syncing with it'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -f -a "ls" -d 'List the remotes with their connection state'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -f -a "rm" -d 'Remove a remote and stop syncing with it'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and not __fish_seen_subcommand_from add ls rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from add" -l token-file -d 'File holding the access token (mode 0600; never in argv)' -r -F
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from add" -l ca-file -d 'PEM CA certificate to trust for a wss:// hub with a private certificate; a self-signed certificate here is trusted as itself' -r -F
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from add" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from add" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from add" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from ls" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from ls" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from rm" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from rm" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add (or replace) a remote and start syncing with it'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List the remotes with their connection state'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove a remote and stop syncing with it'
complete -c syncdb -n "__fish_syncdb_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand clone" -l token-file -d 'File holding the access token (mode 0600)' -r -F
complete -c syncdb -n "__fish_syncdb_using_subcommand clone" -l ca-file -d 'PEM CA certificate to trust for a wss:// hub with a private certificate; a self-signed certificate here is trusted as itself' -r -F
complete -c syncdb -n "__fish_syncdb_using_subcommand clone" -l engine -d 'Engine for the local copy [default: the config\'s `engine`, redb]' -r -f -a "redb\t''
sqlite\t''"
complete -c syncdb -n "__fish_syncdb_using_subcommand clone" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand clone" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand clone" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand clone" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand clone" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand sync" -l timeout -d 'With --once: give up (exit 1) when not caught up within SECS (1 to 31536000, a year)' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand sync" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand sync" -l once -d 'Return once caught up instead of following live: everything the remote had when the command started is here, and everything written here before it is durable there'
complete -c syncdb -n "__fish_syncdb_using_subcommand sync" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand sync" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand sync" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand sync" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand sync" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand digest" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand digest" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand digest" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand digest" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand digest" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand digest" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand repair" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand repair" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand repair" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand repair" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand repair" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand repair" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -l addr -d 'IP:PORT or localhost:PORT to listen on (port 0 picks a free one). Without it: where it serves now (then other flags add to what is served), or 127.0.0.1:7700' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -l tls-cert -d 'PEM certificate chain, for wss:// (with --tls-key)' -r -F
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -l tls-key -d 'PEM private key, for wss:// (with --tls-cert)' -r -F
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -l create-folders -d 'Create folders under DIR when an authorized client asks for one this hub lacks' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -l insecure -d 'Serve plain ws:// on an address beyond loopback (tokens cross the network in clear)'
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -l api -d 'Serve the HTTP API on this port too (the routes and token rules of `syncdb http`)'
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -l stop -d 'Stop serving'
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand serve" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -l addr -d 'IP:PORT or localhost:PORT to listen on (port 0 picks a free one)' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -l tls-cert -d 'PEM certificate chain, for https:// (with --tls-key)' -r -F
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -l tls-key -d 'PEM private key, for https:// (with --tls-cert)' -r -F
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -l cors-origin -d 'Let pages from ORIGIN (scheme://host[:port]) call the API; repeat for more. `--cors-origin \'\'` allows none' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -l insecure -d 'Serve plain http:// on an address beyond loopback (tokens cross the network in clear)'
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -l stop -d 'Stop the TCP listener (the Unix socket stays)'
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand http" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -f -a "create" -d 'Create a token and print it (shown once; only its hash is kept)'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -f -a "ls" -d 'List tokens (ids and scopes; never the secrets)'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -f -a "revoke" -d 'Revoke a token by id; sessions using it end at once'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and not __fish_seen_subcommand_from create ls revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from create" -l folder -d 'Only this folder id [default: every folder served here]' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from create" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from create" -l read-only -d 'May pull, never push'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from create" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from ls" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from ls" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from revoke" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from revoke" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from revoke" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a token and print it (shown once; only its hash is kept)'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List tokens (ids and scopes; never the secrets)'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a token by id; sessions using it end at once'
complete -c syncdb -n "__fish_syncdb_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -f -a "run" -d 'Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -f -a "start" -d 'Start the daemon in the background if it is not running'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -f -a "stop" -d 'Stop the running daemon and wait until it has exited'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -f -a "status" -d 'Say whether the daemon runs (exit code 4 if not)'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and not __fish_seen_subcommand_from run start stop status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from run" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from run" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from run" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from start" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from start" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from start" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from start" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from status" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from status" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "start" -d 'Start the daemon in the background if it is not running'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the running daemon and wait until it has exited'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "status" -d 'Say whether the daemon runs (exit code 4 if not)'
complete -c syncdb -n "__fish_syncdb_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -f -a "install" -d 'Write the service file and start the daemon with your session'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -f -a "uninstall" -d 'Stop the service and remove its file'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -f -a "status" -d 'Say whether the service is installed and what the service manager reports'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from install" -l kind -d 'Which service manager [default: systemd on Linux, launchd on macOS]' -r -f -a "systemd\t'A systemd user unit in ~/.config/systemd/user/'
launchd\t'A launchd agent in ~/Library/LaunchAgents/'"
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from install" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from install" -l print -d 'Print the service file instead of writing it'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from install" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from install" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from install" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from uninstall" -l kind -r -f -a "systemd\t'A systemd user unit in ~/.config/systemd/user/'
launchd\t'A launchd agent in ~/Library/LaunchAgents/'"
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from uninstall" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from uninstall" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from uninstall" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from uninstall" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from status" -l kind -r -f -a "systemd\t'A systemd user unit in ~/.config/systemd/user/'
launchd\t'A launchd agent in ~/Library/LaunchAgents/'"
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from status" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from status" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "install" -d 'Write the service file and start the daemon with your session'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Stop the service and remove its file'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "status" -d 'Say whether the service is installed and what the service manager reports'
complete -c syncdb -n "__fish_syncdb_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -f -a "path" -d 'Print the config file\'s path'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -f -a "show" -d 'Print the config in effect (defaults filled in)'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -f -a "check" -d 'Check a config file (the current one by default); errors name the line'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and not __fish_seen_subcommand_from path show check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from path" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from path" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from path" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from show" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from check" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from check" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the config file\'s path'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the config in effect (defaults filled in)'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check a config file (the current one by default); errors name the line'
complete -c syncdb -n "__fish_syncdb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -f -a "check" -d 'Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database\'s records'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -f -a "set" -d 'Set a database\'s schema from FILE; its version must be above the current one'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -f -a "show" -d 'Print a database\'s schema in force (and the versions it holds)'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -f -a "diff" -d 'Show what `schema set DB FILE` would change and what its steps would touch'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and not __fish_seen_subcommand_from check set show diff help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from check" -l limit -d 'With --data: list at most N violations (all are counted)' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from check" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from check" -l data -d 'Check the records of database TARGET against its schema'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from check" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from set" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from set" -l allow-data-loss -d 'Run steps that remove data'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from set" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from set" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from show" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from show" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from diff" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from diff" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from diff" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from diff" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from diff" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database\'s records'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set a database\'s schema from FILE; its version must be above the current one'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print a database\'s schema in force (and the versions it holds)'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show what `schema set DB FILE` would change and what its steps would touch'
complete -c syncdb -n "__fish_syncdb_using_subcommand schema; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand reset" -l timeout -d 'Seconds to wait for each sync, before and after (1 to 31536000)' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand reset" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand reset" -l force -d 'Discard local writes no remote has yet'
complete -c syncdb -n "__fish_syncdb_using_subcommand reset" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand reset" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand reset" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand reset" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand reset" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand logs" -s n -l lines -d 'How many of the last lines to print first' -r
complete -c syncdb -n "__fish_syncdb_using_subcommand logs" -s C -l dir -d 'Run as if started in DIR: the folder is the nearest one at or above it' -r -f -a "(__fish_complete_directories)"
complete -c syncdb -n "__fish_syncdb_using_subcommand logs" -s f -l follow -d 'Keep printing as the log grows'
complete -c syncdb -n "__fish_syncdb_using_subcommand logs" -l json -d 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand logs" -s q -l quiet -d 'Print nothing but results and errors: no progress, no notes'
complete -c syncdb -n "__fish_syncdb_using_subcommand logs" -s v -l verbose -d 'More log output from a daemon run in the foreground (repeat for more)'
complete -c syncdb -n "__fish_syncdb_using_subcommand logs" -s h -l help -d 'Print help'
complete -c syncdb -n "__fish_syncdb_using_subcommand logs" -s V -l version -d 'Print version'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "init" -d 'Create a folder (or re-register an existing one) and print its id'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "put" -d 'Insert or replace a record and print its key; or import JSON Lines with --batch'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "patch" -d 'Merge top-level fields into a record (`null` removes a field)'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "get" -d 'Print a record\'s document'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "del" -d 'Delete a record'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "ls" -d 'List databases, the collections of a database, or the records of a collection'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "find" -d 'Find the records of a collection by their fields'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "drop" -d 'Drop a collection, or a whole database (every record in it)'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "watch" -d 'Print changes as JSON Lines as they commit'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "status" -d 'Show the daemon, folders, databases, record counts and remotes'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "folder" -d 'List, forget or move the folders registered with the daemon'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "remote" -d 'Manage the remotes this folder syncs with'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "clone" -d 'Make a local copy of a folder served by a hub, and sync it'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "sync" -d 'Sync with the folder\'s remotes, with progress, until caught up both ways'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "digest" -d 'Print a hash of each database\'s merged state: equal on converged replicas'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "repair" -d 'Move a damaged database file aside and pull the database again from the folder\'s remotes'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "serve" -d 'Serve this daemon\'s folders to remotes (a hub); kept across restarts'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "http" -d 'Serve the HTTP API for applications on ADDR; kept across restarts'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "token" -d 'Create, list and revoke the tokens remotes use to reach this hub'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "daemon" -d 'Run, start, stop or query the daemon'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "service" -d 'Run the daemon as a user service: systemd on Linux, launchd on macOS'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "config" -d 'Where the config is, what is in effect, and whether a file is valid'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "schema" -d 'Schemas: a database\'s name, version, collections, key paths, JSON Schemas and migrations'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "reset" -d 'Discard this replica of a database and pull it again from the folder\'s remotes'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "logs" -d 'Show the background daemon\'s log (rotated at 10 MiB, 3 kept)'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and not __fish_seen_subcommand_from init put patch get del ls find drop watch status folder remote clone sync digest repair serve http token daemon service config schema reset logs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from folder" -f -a "ls" -d 'List registered folders: id, path, engine, remotes, whether the path is there'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from folder" -f -a "rm" -d 'Forget a folder: stop syncing it and unregister it; its files stay unless --delete-files'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from folder" -f -a "mv" -d 'Move a folder and keep it registered; or re-point one moved by hand'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "add" -d 'Add (or replace) a remote and start syncing with it'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "ls" -d 'List the remotes with their connection state'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "rm" -d 'Remove a remote and stop syncing with it'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'Create a token and print it (shown once; only its hash is kept)'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "ls" -d 'List tokens (ids and scopes; never the secrets)'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "revoke" -d 'Revoke a token by id; sessions using it end at once'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "run" -d 'Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "start" -d 'Start the daemon in the background if it is not running'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "stop" -d 'Stop the running daemon and wait until it has exited'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "status" -d 'Say whether the daemon runs (exit code 4 if not)'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "install" -d 'Write the service file and start the daemon with your session'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "uninstall" -d 'Stop the service and remove its file'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "status" -d 'Say whether the service is installed and what the service manager reports'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the config file\'s path'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the config in effect (defaults filled in)'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Check a config file (the current one by default); errors name the line'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from schema" -f -a "check" -d 'Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database\'s records'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from schema" -f -a "set" -d 'Set a database\'s schema from FILE; its version must be above the current one'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from schema" -f -a "show" -d 'Print a database\'s schema in force (and the versions it holds)'
complete -c syncdb -n "__fish_syncdb_using_subcommand help; and __fish_seen_subcommand_from schema" -f -a "diff" -d 'Show what `schema set DB FILE` would change and what its steps would touch'
