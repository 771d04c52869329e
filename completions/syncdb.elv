
use builtin;
use str;

set edit:completion:arg-completer[syncdb] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'syncdb'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'syncdb'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create a folder (or re-register an existing one) and print its id'
            cand put 'Insert or replace a record and print its key; or import JSON Lines with --batch'
            cand patch 'Merge top-level fields into a record (`null` removes a field)'
            cand get 'Print a record''s document'
            cand del 'Delete a record'
            cand ls 'List databases, the collections of a database, or the records of a collection'
            cand find 'Find the records of a collection by their fields'
            cand drop 'Drop a collection, or a whole database (every record in it)'
            cand watch 'Print changes as JSON Lines as they commit'
            cand status 'Show the daemon, folders, databases, record counts and remotes'
            cand folder 'List, forget or move the folders registered with the daemon'
            cand remote 'Manage the remotes this folder syncs with'
            cand clone 'Make a local copy of a folder served by a hub, and sync it'
            cand sync 'Sync with the folder''s remotes, with progress, until caught up both ways'
            cand digest 'Print a hash of each database''s merged state: equal on converged replicas'
            cand repair 'Move a damaged database file aside and pull the database again from the folder''s remotes'
            cand serve 'Serve this daemon''s folders to remotes (a hub); kept across restarts'
            cand http 'Serve the HTTP API for applications on ADDR; kept across restarts'
            cand token 'Create, list and revoke the tokens remotes use to reach this hub'
            cand daemon 'Run, start, stop or query the daemon'
            cand service 'Run the daemon as a user service: systemd on Linux, launchd on macOS'
            cand config 'Where the config is, what is in effect, and whether a file is valid'
            cand index 'Secondary indexes: find records by their fields without reading the whole collection'
            cand schema 'Schemas: a database''s name, version, collections, key paths, JSON Schemas and migrations'
            cand reset 'Discard this replica of a database and pull it again from the folder''s remotes'
            cand cleanup 'Forget old tombstones now: work the horizon out and clean up behind it'
            cand replica 'The replicas a hub serves each database to, and retiring one by hand'
            cand compact 'Give a database file''s free space back: redb compaction, SQLite VACUUM'
            cand backup 'Write consistent copies of databases, with a manifest, to a new directory'
            cand restore 'Bring databases back from a backup, checked, as new replicas'
            cand export 'Write a database or a collection as JSON Lines with keys'
            cand logs 'Show the background daemon''s log (rotated at 10 MiB, 3 kept)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;init'= {
            cand --engine 'Engine for the folder''s databases [default: the config''s `engine`, redb]'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;put'= {
            cand --format 'What each line is: `auto` reads a record as `ls --json` prints it ({"key":..,"doc":{..}}) under its key and any other line as a document; `docs`: every line is a document; `records`: every line is a record (extra fields such as seq and version are ignored)'
            cand --key-field 'Take each document''s key from field F (dotted for a field inside an object: `meta.id`) [default: `daemon.key_path`, `_id`]'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --batch 'Import JSON Lines: one document or record per line, all in one transaction'
            cand --dry-run 'Read and check every line, print how many records would be imported, and write nothing'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;patch'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;get'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;del'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;ls'= {
            cand --prefix 'Only records whose key starts with P'
            cand --limit 'At most N records'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --keys 'Print keys only'
            cand --all 'With no address: list dropped databases too'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;find'= {
            cand --where 'A condition, FIELD OP VALUE (repeat for more: all must hold)'
            cand --order-by 'Sort by this field (then by key) instead of by key'
            cand --limit 'At most N records in this page'
            cand --cursor 'Continue after the page that gave this cursor'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --desc 'Largest first'
            cand --count 'Print how many records match, not the records'
            cand --explain 'Print how the query ran (what it read, what matched), not the records (with --count, the count too)'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;drop'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand -y 'Do not ask: drop even if it removes records (for scripts)'
            cand --yes 'Do not ask: drop even if it removes records (for scripts)'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;watch'= {
            cand --since 'Replay the feed after this seq first (needs DB: seqs are per database)'
            cand --where 'A live query''s condition, FIELD OP VALUE (repeat: all must hold)'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;status'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --all 'List dropped databases too'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;folder'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand ls 'List registered folders: id, path, engine, remotes, whether the path is there'
            cand rm 'Forget a folder: stop syncing it and unregister it; its files stay unless --delete-files'
            cand mv 'Move a folder and keep it registered; or re-point one moved by hand'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;folder;ls'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;folder;rm'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --delete-files 'Also delete its databases and .syncdb/'
            cand -y 'Do not ask before deleting files (for scripts)'
            cand --yes 'Do not ask before deleting files (for scripts)'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;folder;mv'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;folder;help'= {
            cand ls 'List registered folders: id, path, engine, remotes, whether the path is there'
            cand rm 'Forget a folder: stop syncing it and unregister it; its files stay unless --delete-files'
            cand mv 'Move a folder and keep it registered; or re-point one moved by hand'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;folder;help;ls'= {
        }
        &'syncdb;folder;help;rm'= {
        }
        &'syncdb;folder;help;mv'= {
        }
        &'syncdb;folder;help;help'= {
        }
        &'syncdb;remote'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Add (or replace) a remote and start syncing with it'
            cand ls 'List the remotes with their connection state'
            cand rm 'Remove a remote and stop syncing with it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;remote;add'= {
            cand --failover 'Another hub serving the folder over the same store, tried when the ones before cannot be reached (repeat for more)'
            cand --token-file 'File holding the access token (mode 0600; never in argv)'
            cand --ca-file 'PEM CA certificate to trust for a wss:// hub with a private certificate; a self-signed certificate here is trusted as itself'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;remote;ls'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;remote;rm'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;remote;help'= {
            cand add 'Add (or replace) a remote and start syncing with it'
            cand ls 'List the remotes with their connection state'
            cand rm 'Remove a remote and stop syncing with it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;remote;help;add'= {
        }
        &'syncdb;remote;help;ls'= {
        }
        &'syncdb;remote;help;rm'= {
        }
        &'syncdb;remote;help;help'= {
        }
        &'syncdb;clone'= {
            cand --failover 'Another hub serving the folder over the same store, tried when the ones before cannot be reached (repeat for more)'
            cand --token-file 'File holding the access token (mode 0600)'
            cand --ca-file 'PEM CA certificate to trust for a wss:// hub with a private certificate; a self-signed certificate here is trusted as itself'
            cand --engine 'Engine for the local copy [default: the config''s `engine`, redb]'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;sync'= {
            cand --timeout 'With --once: give up (exit 1) when not caught up within SECS (1 to 31536000, a year)'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --once 'Return once caught up instead of following live: everything the remote had when the command started is here, and everything written here before it is durable there'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;digest'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;repair'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;serve'= {
            cand --addr 'IP:PORT or localhost:PORT to listen on (port 0 picks a free one). Without it: where it serves now (then other flags add to what is served), or 127.0.0.1:7700'
            cand --tls-cert 'PEM certificate chain, for wss:// (with --tls-key)'
            cand --tls-key 'PEM private key, for wss:// (with --tls-cert)'
            cand --create-folders 'Create folders under DIR when an authorized client asks for one this hub lacks'
            cand --store 'Keep the served folders, their tokens and replica owners in this PostgreSQL database, which other hubs may share: `host=… user=… dbname=… password_file=FILE` or postgres://USER@HOST/DB. Kept in the config (shown without its password)'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --insecure 'Serve plain ws:// on an address beyond loopback (tokens cross the network in clear)'
            cand --api 'Serve the HTTP API on this port too (the routes and token rules of `syncdb http`)'
            cand --stop 'Stop serving'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;http'= {
            cand --addr 'IP:PORT or localhost:PORT to listen on (port 0 picks a free one)'
            cand --tls-cert 'PEM certificate chain, for https:// (with --tls-key)'
            cand --tls-key 'PEM private key, for https:// (with --tls-cert)'
            cand --cors-origin 'Let pages from ORIGIN (scheme://host[:port]) call the API; repeat for more. `--cors-origin ''''` allows none'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --insecure 'Serve plain http:// on an address beyond loopback (tokens cross the network in clear)'
            cand --stop 'Stop the TCP listener (the Unix socket stays)'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;token'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a token and print it (shown once; only its hash is kept)'
            cand ls 'List tokens (ids and scopes; never the secrets)'
            cand revoke 'Revoke a token by id; sessions using it end at once'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;token;create'= {
            cand --folder 'Only this folder id [default: every folder served here]'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --read-only 'May pull, never push'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;token;ls'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;token;revoke'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;token;help'= {
            cand create 'Create a token and print it (shown once; only its hash is kept)'
            cand ls 'List tokens (ids and scopes; never the secrets)'
            cand revoke 'Revoke a token by id; sessions using it end at once'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;token;help;create'= {
        }
        &'syncdb;token;help;ls'= {
        }
        &'syncdb;token;help;revoke'= {
        }
        &'syncdb;token;help;help'= {
        }
        &'syncdb;daemon'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr'
            cand start 'Start the daemon in the background if it is not running'
            cand stop 'Stop the running daemon and wait until it has exited'
            cand status 'Say whether the daemon runs (exit code 4 if not)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;daemon;run'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;daemon;start'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;daemon;stop'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;daemon;status'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;daemon;help'= {
            cand run 'Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr'
            cand start 'Start the daemon in the background if it is not running'
            cand stop 'Stop the running daemon and wait until it has exited'
            cand status 'Say whether the daemon runs (exit code 4 if not)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;daemon;help;run'= {
        }
        &'syncdb;daemon;help;start'= {
        }
        &'syncdb;daemon;help;stop'= {
        }
        &'syncdb;daemon;help;status'= {
        }
        &'syncdb;daemon;help;help'= {
        }
        &'syncdb;service'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand install 'Write the service file and start the daemon with your session'
            cand uninstall 'Stop the service and remove its file'
            cand status 'Say whether the service is installed and what the service manager reports'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;service;install'= {
            cand --kind 'Which service manager [default: systemd on Linux, launchd on macOS]'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --print 'Print the service file instead of writing it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;service;uninstall'= {
            cand --kind 'kind'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;service;status'= {
            cand --kind 'kind'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;service;help'= {
            cand install 'Write the service file and start the daemon with your session'
            cand uninstall 'Stop the service and remove its file'
            cand status 'Say whether the service is installed and what the service manager reports'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;service;help;install'= {
        }
        &'syncdb;service;help;uninstall'= {
        }
        &'syncdb;service;help;status'= {
        }
        &'syncdb;service;help;help'= {
        }
        &'syncdb;config'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand path 'Print the config file''s path'
            cand show 'Print the config in effect (defaults filled in)'
            cand check 'Check a config file (the current one by default); errors name the line'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;config;path'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;config;show'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;config;check'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;config;help'= {
            cand path 'Print the config file''s path'
            cand show 'Print the config in effect (defaults filled in)'
            cand check 'Check a config file (the current one by default); errors name the line'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;config;help;path'= {
        }
        &'syncdb;config;help;show'= {
        }
        &'syncdb;config;help;check'= {
        }
        &'syncdb;config;help;help'= {
        }
        &'syncdb;index'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Index a collection on one or more fields, and build the index'
            cand drop 'Remove an index and its entries (queries scan again)'
            cand ls 'List indexes: of every database of the folder, of DB, or of DB/COLL'
            cand check 'Check indexes against their records; exit 1 when one is out of step'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;index;create'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --no-wait 'Return once the index exists; the build goes on in the daemon'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;index;drop'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;index;ls'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;index;check'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;index;help'= {
            cand create 'Index a collection on one or more fields, and build the index'
            cand drop 'Remove an index and its entries (queries scan again)'
            cand ls 'List indexes: of every database of the folder, of DB, or of DB/COLL'
            cand check 'Check indexes against their records; exit 1 when one is out of step'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;index;help;create'= {
        }
        &'syncdb;index;help;drop'= {
        }
        &'syncdb;index;help;ls'= {
        }
        &'syncdb;index;help;check'= {
        }
        &'syncdb;index;help;help'= {
        }
        &'syncdb;schema'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand check 'Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database''s records'
            cand set 'Set a database''s schema from FILE; its version must be above the current one'
            cand show 'Print a database''s schema in force (and the versions it holds)'
            cand diff 'Show what `schema set DB FILE` would change and what its steps would touch'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;schema;check'= {
            cand --limit 'With --data: list at most N violations (all are counted)'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --data 'Check the records of database TARGET against its schema'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;schema;set'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --allow-data-loss 'Run steps that remove data'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;schema;show'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;schema;diff'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;schema;help'= {
            cand check 'Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database''s records'
            cand set 'Set a database''s schema from FILE; its version must be above the current one'
            cand show 'Print a database''s schema in force (and the versions it holds)'
            cand diff 'Show what `schema set DB FILE` would change and what its steps would touch'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;schema;help;check'= {
        }
        &'syncdb;schema;help;set'= {
        }
        &'syncdb;schema;help;show'= {
        }
        &'syncdb;schema;help;diff'= {
        }
        &'syncdb;schema;help;help'= {
        }
        &'syncdb;reset'= {
            cand --timeout 'Seconds to wait for each sync, before and after (1 to 31536000)'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --force 'Discard local writes no remote has yet'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;cleanup'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;replica'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand ls 'List each database''s replica here (site id, horizon) and, on a hub, the replicas it serves: when each was last seen, and whether it is live or retired'
            cand rm 'Retire a replica by hand (a lost laptop): it no longer holds cleanup back'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;replica;ls'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;replica;rm'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;replica;help'= {
            cand ls 'List each database''s replica here (site id, horizon) and, on a hub, the replicas it serves: when each was last seen, and whether it is live or retired'
            cand rm 'Retire a replica by hand (a lost laptop): it no longer holds cleanup back'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;replica;help;ls'= {
        }
        &'syncdb;replica;help;rm'= {
        }
        &'syncdb;replica;help;help'= {
        }
        &'syncdb;compact'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;backup'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --all 'Every database of the folder'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;restore'= {
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --force 'Replace a database that exists here (it is moved aside, not deleted)'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;export'= {
            cand -o 'Write to FILE instead of standard output'
            cand --output 'Write to FILE instead of standard output'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;logs'= {
            cand -n 'How many of the last lines to print first'
            cand --lines 'How many of the last lines to print first'
            cand -C 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand --dir 'Run as if started in DIR: the folder is the nearest one at or above it'
            cand -f 'Keep printing as the log grows'
            cand --follow 'Keep printing as the log grows'
            cand --json 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr'
            cand -q 'Print nothing but results and errors: no progress, no notes'
            cand --quiet 'Print nothing but results and errors: no progress, no notes'
            cand -v 'More log output from a daemon run in the foreground (repeat for more)'
            cand --verbose 'More log output from a daemon run in the foreground (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'syncdb;help'= {
            cand init 'Create a folder (or re-register an existing one) and print its id'
            cand put 'Insert or replace a record and print its key; or import JSON Lines with --batch'
            cand patch 'Merge top-level fields into a record (`null` removes a field)'
            cand get 'Print a record''s document'
            cand del 'Delete a record'
            cand ls 'List databases, the collections of a database, or the records of a collection'
            cand find 'Find the records of a collection by their fields'
            cand drop 'Drop a collection, or a whole database (every record in it)'
            cand watch 'Print changes as JSON Lines as they commit'
            cand status 'Show the daemon, folders, databases, record counts and remotes'
            cand folder 'List, forget or move the folders registered with the daemon'
            cand remote 'Manage the remotes this folder syncs with'
            cand clone 'Make a local copy of a folder served by a hub, and sync it'
            cand sync 'Sync with the folder''s remotes, with progress, until caught up both ways'
            cand digest 'Print a hash of each database''s merged state: equal on converged replicas'
            cand repair 'Move a damaged database file aside and pull the database again from the folder''s remotes'
            cand serve 'Serve this daemon''s folders to remotes (a hub); kept across restarts'
            cand http 'Serve the HTTP API for applications on ADDR; kept across restarts'
            cand token 'Create, list and revoke the tokens remotes use to reach this hub'
            cand daemon 'Run, start, stop or query the daemon'
            cand service 'Run the daemon as a user service: systemd on Linux, launchd on macOS'
            cand config 'Where the config is, what is in effect, and whether a file is valid'
            cand index 'Secondary indexes: find records by their fields without reading the whole collection'
            cand schema 'Schemas: a database''s name, version, collections, key paths, JSON Schemas and migrations'
            cand reset 'Discard this replica of a database and pull it again from the folder''s remotes'
            cand cleanup 'Forget old tombstones now: work the horizon out and clean up behind it'
            cand replica 'The replicas a hub serves each database to, and retiring one by hand'
            cand compact 'Give a database file''s free space back: redb compaction, SQLite VACUUM'
            cand backup 'Write consistent copies of databases, with a manifest, to a new directory'
            cand restore 'Bring databases back from a backup, checked, as new replicas'
            cand export 'Write a database or a collection as JSON Lines with keys'
            cand logs 'Show the background daemon''s log (rotated at 10 MiB, 3 kept)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'syncdb;help;init'= {
        }
        &'syncdb;help;put'= {
        }
        &'syncdb;help;patch'= {
        }
        &'syncdb;help;get'= {
        }
        &'syncdb;help;del'= {
        }
        &'syncdb;help;ls'= {
        }
        &'syncdb;help;find'= {
        }
        &'syncdb;help;drop'= {
        }
        &'syncdb;help;watch'= {
        }
        &'syncdb;help;status'= {
        }
        &'syncdb;help;folder'= {
            cand ls 'List registered folders: id, path, engine, remotes, whether the path is there'
            cand rm 'Forget a folder: stop syncing it and unregister it; its files stay unless --delete-files'
            cand mv 'Move a folder and keep it registered; or re-point one moved by hand'
        }
        &'syncdb;help;folder;ls'= {
        }
        &'syncdb;help;folder;rm'= {
        }
        &'syncdb;help;folder;mv'= {
        }
        &'syncdb;help;remote'= {
            cand add 'Add (or replace) a remote and start syncing with it'
            cand ls 'List the remotes with their connection state'
            cand rm 'Remove a remote and stop syncing with it'
        }
        &'syncdb;help;remote;add'= {
        }
        &'syncdb;help;remote;ls'= {
        }
        &'syncdb;help;remote;rm'= {
        }
        &'syncdb;help;clone'= {
        }
        &'syncdb;help;sync'= {
        }
        &'syncdb;help;digest'= {
        }
        &'syncdb;help;repair'= {
        }
        &'syncdb;help;serve'= {
        }
        &'syncdb;help;http'= {
        }
        &'syncdb;help;token'= {
            cand create 'Create a token and print it (shown once; only its hash is kept)'
            cand ls 'List tokens (ids and scopes; never the secrets)'
            cand revoke 'Revoke a token by id; sessions using it end at once'
        }
        &'syncdb;help;token;create'= {
        }
        &'syncdb;help;token;ls'= {
        }
        &'syncdb;help;token;revoke'= {
        }
        &'syncdb;help;daemon'= {
            cand run 'Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr'
            cand start 'Start the daemon in the background if it is not running'
            cand stop 'Stop the running daemon and wait until it has exited'
            cand status 'Say whether the daemon runs (exit code 4 if not)'
        }
        &'syncdb;help;daemon;run'= {
        }
        &'syncdb;help;daemon;start'= {
        }
        &'syncdb;help;daemon;stop'= {
        }
        &'syncdb;help;daemon;status'= {
        }
        &'syncdb;help;service'= {
            cand install 'Write the service file and start the daemon with your session'
            cand uninstall 'Stop the service and remove its file'
            cand status 'Say whether the service is installed and what the service manager reports'
        }
        &'syncdb;help;service;install'= {
        }
        &'syncdb;help;service;uninstall'= {
        }
        &'syncdb;help;service;status'= {
        }
        &'syncdb;help;config'= {
            cand path 'Print the config file''s path'
            cand show 'Print the config in effect (defaults filled in)'
            cand check 'Check a config file (the current one by default); errors name the line'
        }
        &'syncdb;help;config;path'= {
        }
        &'syncdb;help;config;show'= {
        }
        &'syncdb;help;config;check'= {
        }
        &'syncdb;help;index'= {
            cand create 'Index a collection on one or more fields, and build the index'
            cand drop 'Remove an index and its entries (queries scan again)'
            cand ls 'List indexes: of every database of the folder, of DB, or of DB/COLL'
            cand check 'Check indexes against their records; exit 1 when one is out of step'
        }
        &'syncdb;help;index;create'= {
        }
        &'syncdb;help;index;drop'= {
        }
        &'syncdb;help;index;ls'= {
        }
        &'syncdb;help;index;check'= {
        }
        &'syncdb;help;schema'= {
            cand check 'Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database''s records'
            cand set 'Set a database''s schema from FILE; its version must be above the current one'
            cand show 'Print a database''s schema in force (and the versions it holds)'
            cand diff 'Show what `schema set DB FILE` would change and what its steps would touch'
        }
        &'syncdb;help;schema;check'= {
        }
        &'syncdb;help;schema;set'= {
        }
        &'syncdb;help;schema;show'= {
        }
        &'syncdb;help;schema;diff'= {
        }
        &'syncdb;help;reset'= {
        }
        &'syncdb;help;cleanup'= {
        }
        &'syncdb;help;replica'= {
            cand ls 'List each database''s replica here (site id, horizon) and, on a hub, the replicas it serves: when each was last seen, and whether it is live or retired'
            cand rm 'Retire a replica by hand (a lost laptop): it no longer holds cleanup back'
        }
        &'syncdb;help;replica;ls'= {
        }
        &'syncdb;help;replica;rm'= {
        }
        &'syncdb;help;compact'= {
        }
        &'syncdb;help;backup'= {
        }
        &'syncdb;help;restore'= {
        }
        &'syncdb;help;export'= {
        }
        &'syncdb;help;logs'= {
        }
        &'syncdb;help;help'= {
        }
    ]
    $completions[$command]
}
