
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'syncdb' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'syncdb'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'syncdb' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a folder (or re-register an existing one) and print its id')
            [CompletionResult]::new('put', 'put', [CompletionResultType]::ParameterValue, 'Insert or replace a record and print its key; or import JSON Lines with --batch')
            [CompletionResult]::new('patch', 'patch', [CompletionResultType]::ParameterValue, 'Merge top-level fields into a record (`null` removes a field)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a record''s document')
            [CompletionResult]::new('del', 'del', [CompletionResultType]::ParameterValue, 'Delete a record')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List databases, the collections of a database, or the records of a collection')
            [CompletionResult]::new('find', 'find', [CompletionResultType]::ParameterValue, 'Find the records of a collection by their fields')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Drop a collection, or a whole database (every record in it)')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Print changes as JSON Lines as they commit')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the daemon, folders, databases, record counts and remotes')
            [CompletionResult]::new('folder', 'folder', [CompletionResultType]::ParameterValue, 'List, forget or move the folders registered with the daemon')
            [CompletionResult]::new('remote', 'remote', [CompletionResultType]::ParameterValue, 'Manage the remotes this folder syncs with')
            [CompletionResult]::new('clone', 'clone', [CompletionResultType]::ParameterValue, 'Make a local copy of a folder served by a hub, and sync it')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Sync with the folder''s remotes, with progress, until caught up both ways')
            [CompletionResult]::new('digest', 'digest', [CompletionResultType]::ParameterValue, 'Print a hash of each database''s merged state: equal on converged replicas')
            [CompletionResult]::new('repair', 'repair', [CompletionResultType]::ParameterValue, 'Move a damaged database file aside and pull the database again from the folder''s remotes')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve this daemon''s folders to remotes (a hub); kept across restarts')
            [CompletionResult]::new('http', 'http', [CompletionResultType]::ParameterValue, 'Serve the HTTP API for applications on ADDR; kept across restarts')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Create, list and revoke the tokens remotes use to reach this hub')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Run, start, stop or query the daemon')
            [CompletionResult]::new('service', 'service', [CompletionResultType]::ParameterValue, 'Run the daemon as a user service: systemd on Linux, launchd on macOS')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Where the config is, what is in effect, and whether a file is valid')
            [CompletionResult]::new('index', 'index', [CompletionResultType]::ParameterValue, 'Secondary indexes: find records by their fields without reading the whole collection')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Schemas: a database''s name, version, collections, key paths, JSON Schemas and migrations')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Discard this replica of a database and pull it again from the folder''s remotes')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Forget old tombstones now: work the horizon out and clean up behind it')
            [CompletionResult]::new('replica', 'replica', [CompletionResultType]::ParameterValue, 'The replicas a hub serves each database to, and retiring one by hand')
            [CompletionResult]::new('compact', 'compact', [CompletionResultType]::ParameterValue, 'Give a database file''s free space back: redb compaction, SQLite VACUUM')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write consistent copies of databases, with a manifest, to a new directory')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Bring databases back from a backup, checked, as new replicas')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write a database or a collection as JSON Lines with keys')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the background daemon''s log (rotated at 10 MiB, 3 kept)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;init' {
            [CompletionResult]::new('--engine', '--engine', [CompletionResultType]::ParameterName, 'Engine for the folder''s databases [default: the config''s `engine`, redb]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;put' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'What each line is: `auto` reads a record as `ls --json` prints it ({"key":..,"doc":{..}}) under its key and any other line as a document; `docs`: every line is a document; `records`: every line is a record (extra fields such as seq and version are ignored)')
            [CompletionResult]::new('--key-field', '--key-field', [CompletionResultType]::ParameterName, 'Take each document''s key from field F (dotted for a field inside an object: `meta.id`) [default: `daemon.key_path`, `_id`]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Import JSON Lines: one document or record per line, all in one transaction')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Read and check every line, print how many records would be imported, and write nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;patch' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;get' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;del' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;ls' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Only records whose key starts with P')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most N records')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--keys', '--keys', [CompletionResultType]::ParameterName, 'Print keys only')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'With no address: list dropped databases too')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;find' {
            [CompletionResult]::new('--where', '--where', [CompletionResultType]::ParameterName, 'A condition, FIELD OP VALUE (repeat for more: all must hold)')
            [CompletionResult]::new('--order-by', '--order-by', [CompletionResultType]::ParameterName, 'Sort by this field (then by key) instead of by key')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most N records in this page')
            [CompletionResult]::new('--cursor', '--cursor', [CompletionResultType]::ParameterName, 'Continue after the page that gave this cursor')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--desc', '--desc', [CompletionResultType]::ParameterName, 'Largest first')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Print how many records match, not the records')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Print how the query ran (what it read, what matched), not the records (with --count, the count too)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;drop' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask: drop even if it removes records (for scripts)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask: drop even if it removes records (for scripts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;watch' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Replay the feed after this seq first (needs DB: seqs are per database)')
            [CompletionResult]::new('--where', '--where', [CompletionResultType]::ParameterName, 'A live query''s condition, FIELD OP VALUE (repeat: all must hold)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;status' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'List dropped databases too')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;folder' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List registered folders: id, path, engine, remotes, whether the path is there')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Forget a folder: stop syncing it and unregister it; its files stay unless --delete-files')
            [CompletionResult]::new('mv', 'mv', [CompletionResultType]::ParameterValue, 'Move a folder and keep it registered; or re-point one moved by hand')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;folder;ls' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;folder;rm' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--delete-files', '--delete-files', [CompletionResultType]::ParameterName, 'Also delete its databases and .syncdb/')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask before deleting files (for scripts)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask before deleting files (for scripts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;folder;mv' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;folder;help' {
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List registered folders: id, path, engine, remotes, whether the path is there')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Forget a folder: stop syncing it and unregister it; its files stay unless --delete-files')
            [CompletionResult]::new('mv', 'mv', [CompletionResultType]::ParameterValue, 'Move a folder and keep it registered; or re-point one moved by hand')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;folder;help;ls' {
            break
        }
        'syncdb;folder;help;rm' {
            break
        }
        'syncdb;folder;help;mv' {
            break
        }
        'syncdb;folder;help;help' {
            break
        }
        'syncdb;remote' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add (or replace) a remote and start syncing with it')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the remotes with their connection state')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a remote and stop syncing with it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;remote;add' {
            [CompletionResult]::new('--failover', '--failover', [CompletionResultType]::ParameterName, 'Another hub serving the folder over the same store, tried when the ones before cannot be reached (repeat for more)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the access token (mode 0600; never in argv)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM CA certificate to trust for a wss:// hub with a private certificate; a self-signed certificate here is trusted as itself')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;remote;ls' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;remote;rm' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;remote;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add (or replace) a remote and start syncing with it')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the remotes with their connection state')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a remote and stop syncing with it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;remote;help;add' {
            break
        }
        'syncdb;remote;help;ls' {
            break
        }
        'syncdb;remote;help;rm' {
            break
        }
        'syncdb;remote;help;help' {
            break
        }
        'syncdb;clone' {
            [CompletionResult]::new('--failover', '--failover', [CompletionResultType]::ParameterName, 'Another hub serving the folder over the same store, tried when the ones before cannot be reached (repeat for more)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the access token (mode 0600)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM CA certificate to trust for a wss:// hub with a private certificate; a self-signed certificate here is trusted as itself')
            [CompletionResult]::new('--engine', '--engine', [CompletionResultType]::ParameterName, 'Engine for the local copy [default: the config''s `engine`, redb]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;sync' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --once: give up (exit 1) when not caught up within SECS (1 to 31536000, a year)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Return once caught up instead of following live: everything the remote had when the command started is here, and everything written here before it is durable there')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;digest' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;repair' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;serve' {
            [CompletionResult]::new('--addr', '--addr', [CompletionResultType]::ParameterName, 'IP:PORT or localhost:PORT to listen on (port 0 picks a free one). Without it: where it serves now (then other flags add to what is served), or 127.0.0.1:7700')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'PEM certificate chain, for wss:// (with --tls-key)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'PEM private key, for wss:// (with --tls-cert)')
            [CompletionResult]::new('--create-folders', '--create-folders', [CompletionResultType]::ParameterName, 'Create folders under DIR when an authorized client asks for one this hub lacks')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Keep the served folders, their tokens and replica owners in this PostgreSQL database, which other hubs may share: `host=… user=… dbname=… password_file=FILE` or postgres://USER@HOST/DB. Kept in the config (shown without its password)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Serve plain ws:// on an address beyond loopback (tokens cross the network in clear)')
            [CompletionResult]::new('--api', '--api', [CompletionResultType]::ParameterName, 'Serve the HTTP API on this port too (the routes and token rules of `syncdb http`)')
            [CompletionResult]::new('--stop', '--stop', [CompletionResultType]::ParameterName, 'Stop serving')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;http' {
            [CompletionResult]::new('--addr', '--addr', [CompletionResultType]::ParameterName, 'IP:PORT or localhost:PORT to listen on (port 0 picks a free one)')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'PEM certificate chain, for https:// (with --tls-key)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'PEM private key, for https:// (with --tls-cert)')
            [CompletionResult]::new('--cors-origin', '--cors-origin', [CompletionResultType]::ParameterName, 'Let pages from ORIGIN (scheme://host[:port]) call the API; repeat for more. `--cors-origin ''''` allows none')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Serve plain http:// on an address beyond loopback (tokens cross the network in clear)')
            [CompletionResult]::new('--stop', '--stop', [CompletionResultType]::ParameterName, 'Stop the TCP listener (the Unix socket stays)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;token' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a token and print it (shown once; only its hash is kept)')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List tokens (ids and scopes; never the secrets)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token by id; sessions using it end at once')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;token;create' {
            [CompletionResult]::new('--folder', '--folder', [CompletionResultType]::ParameterName, 'Only this folder id [default: every folder served here]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--read-only', '--read-only', [CompletionResultType]::ParameterName, 'May pull, never push')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;token;ls' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;token;revoke' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;token;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a token and print it (shown once; only its hash is kept)')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List tokens (ids and scopes; never the secrets)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token by id; sessions using it end at once')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;token;help;create' {
            break
        }
        'syncdb;token;help;ls' {
            break
        }
        'syncdb;token;help;revoke' {
            break
        }
        'syncdb;token;help;help' {
            break
        }
        'syncdb;daemon' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the daemon in the background if it is not running')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running daemon and wait until it has exited')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether the daemon runs (exit code 4 if not)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;daemon;run' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;daemon;start' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;daemon;stop' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;daemon;status' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;daemon;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the daemon in the background if it is not running')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running daemon and wait until it has exited')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether the daemon runs (exit code 4 if not)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;daemon;help;run' {
            break
        }
        'syncdb;daemon;help;start' {
            break
        }
        'syncdb;daemon;help;stop' {
            break
        }
        'syncdb;daemon;help;status' {
            break
        }
        'syncdb;daemon;help;help' {
            break
        }
        'syncdb;service' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Write the service file and start the daemon with your session')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop the service and remove its file')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether the service is installed and what the service manager reports')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;service;install' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Which service manager [default: systemd on Linux, launchd on macOS]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--print', '--print', [CompletionResultType]::ParameterName, 'Print the service file instead of writing it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;service;uninstall' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'kind')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;service;status' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'kind')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;service;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Write the service file and start the daemon with your session')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop the service and remove its file')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether the service is installed and what the service manager reports')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;service;help;install' {
            break
        }
        'syncdb;service;help;uninstall' {
            break
        }
        'syncdb;service;help;status' {
            break
        }
        'syncdb;service;help;help' {
            break
        }
        'syncdb;config' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file''s path')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the config in effect (defaults filled in)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a config file (the current one by default); errors name the line')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;config;path' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;config;show' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;config;check' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;config;help' {
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file''s path')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the config in effect (defaults filled in)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a config file (the current one by default); errors name the line')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;config;help;path' {
            break
        }
        'syncdb;config;help;show' {
            break
        }
        'syncdb;config;help;check' {
            break
        }
        'syncdb;config;help;help' {
            break
        }
        'syncdb;index' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Index a collection on one or more fields, and build the index')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Remove an index and its entries (queries scan again)')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List indexes: of every database of the folder, of DB, or of DB/COLL')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check indexes against their records; exit 1 when one is out of step')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;index;create' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return once the index exists; the build goes on in the daemon')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;index;drop' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;index;ls' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;index;check' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;index;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Index a collection on one or more fields, and build the index')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Remove an index and its entries (queries scan again)')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List indexes: of every database of the folder, of DB, or of DB/COLL')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check indexes against their records; exit 1 when one is out of step')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;index;help;create' {
            break
        }
        'syncdb;index;help;drop' {
            break
        }
        'syncdb;index;help;ls' {
            break
        }
        'syncdb;index;help;check' {
            break
        }
        'syncdb;index;help;help' {
            break
        }
        'syncdb;schema' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database''s records')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a database''s schema from FILE; its version must be above the current one')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a database''s schema in force (and the versions it holds)')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what `schema set DB FILE` would change and what its steps would touch')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;schema;check' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'With --data: list at most N violations (all are counted)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'Check the records of database TARGET against its schema')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;schema;set' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--allow-data-loss', '--allow-data-loss', [CompletionResultType]::ParameterName, 'Run steps that remove data')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;schema;show' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;schema;diff' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;schema;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database''s records')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a database''s schema from FILE; its version must be above the current one')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a database''s schema in force (and the versions it holds)')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what `schema set DB FILE` would change and what its steps would touch')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;schema;help;check' {
            break
        }
        'syncdb;schema;help;set' {
            break
        }
        'syncdb;schema;help;show' {
            break
        }
        'syncdb;schema;help;diff' {
            break
        }
        'syncdb;schema;help;help' {
            break
        }
        'syncdb;reset' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each sync, before and after (1 to 31536000)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Discard local writes no remote has yet')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;cleanup' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;replica' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List each database''s replica here (site id, horizon) and, on a hub, the replicas it serves: when each was last seen, and whether it is live or retired')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Retire a replica by hand (a lost laptop): it no longer holds cleanup back')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;replica;ls' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;replica;rm' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;replica;help' {
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List each database''s replica here (site id, horizon) and, on a hub, the replicas it serves: when each was last seen, and whether it is live or retired')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Retire a replica by hand (a lost laptop): it no longer holds cleanup back')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;replica;help;ls' {
            break
        }
        'syncdb;replica;help;rm' {
            break
        }
        'syncdb;replica;help;help' {
            break
        }
        'syncdb;compact' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;backup' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every database of the folder')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;restore' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a database that exists here (it is moved aside, not deleted)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;export' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to FILE instead of standard output')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to FILE instead of standard output')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;logs' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many of the last lines to print first')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'How many of the last lines to print first')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Run as if started in DIR: the folder is the nearest one at or above it')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing as the log grows')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing as the log grows')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine output: one JSON value (or JSON Lines for streams) on stdout; errors as JSON on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors: no progress, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output from a daemon run in the foreground (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'syncdb;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a folder (or re-register an existing one) and print its id')
            [CompletionResult]::new('put', 'put', [CompletionResultType]::ParameterValue, 'Insert or replace a record and print its key; or import JSON Lines with --batch')
            [CompletionResult]::new('patch', 'patch', [CompletionResultType]::ParameterValue, 'Merge top-level fields into a record (`null` removes a field)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a record''s document')
            [CompletionResult]::new('del', 'del', [CompletionResultType]::ParameterValue, 'Delete a record')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List databases, the collections of a database, or the records of a collection')
            [CompletionResult]::new('find', 'find', [CompletionResultType]::ParameterValue, 'Find the records of a collection by their fields')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Drop a collection, or a whole database (every record in it)')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Print changes as JSON Lines as they commit')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the daemon, folders, databases, record counts and remotes')
            [CompletionResult]::new('folder', 'folder', [CompletionResultType]::ParameterValue, 'List, forget or move the folders registered with the daemon')
            [CompletionResult]::new('remote', 'remote', [CompletionResultType]::ParameterValue, 'Manage the remotes this folder syncs with')
            [CompletionResult]::new('clone', 'clone', [CompletionResultType]::ParameterValue, 'Make a local copy of a folder served by a hub, and sync it')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Sync with the folder''s remotes, with progress, until caught up both ways')
            [CompletionResult]::new('digest', 'digest', [CompletionResultType]::ParameterValue, 'Print a hash of each database''s merged state: equal on converged replicas')
            [CompletionResult]::new('repair', 'repair', [CompletionResultType]::ParameterValue, 'Move a damaged database file aside and pull the database again from the folder''s remotes')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve this daemon''s folders to remotes (a hub); kept across restarts')
            [CompletionResult]::new('http', 'http', [CompletionResultType]::ParameterValue, 'Serve the HTTP API for applications on ADDR; kept across restarts')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Create, list and revoke the tokens remotes use to reach this hub')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Run, start, stop or query the daemon')
            [CompletionResult]::new('service', 'service', [CompletionResultType]::ParameterValue, 'Run the daemon as a user service: systemd on Linux, launchd on macOS')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Where the config is, what is in effect, and whether a file is valid')
            [CompletionResult]::new('index', 'index', [CompletionResultType]::ParameterValue, 'Secondary indexes: find records by their fields without reading the whole collection')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Schemas: a database''s name, version, collections, key paths, JSON Schemas and migrations')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Discard this replica of a database and pull it again from the folder''s remotes')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Forget old tombstones now: work the horizon out and clean up behind it')
            [CompletionResult]::new('replica', 'replica', [CompletionResultType]::ParameterValue, 'The replicas a hub serves each database to, and retiring one by hand')
            [CompletionResult]::new('compact', 'compact', [CompletionResultType]::ParameterValue, 'Give a database file''s free space back: redb compaction, SQLite VACUUM')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write consistent copies of databases, with a manifest, to a new directory')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Bring databases back from a backup, checked, as new replicas')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write a database or a collection as JSON Lines with keys')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the background daemon''s log (rotated at 10 MiB, 3 kept)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'syncdb;help;init' {
            break
        }
        'syncdb;help;put' {
            break
        }
        'syncdb;help;patch' {
            break
        }
        'syncdb;help;get' {
            break
        }
        'syncdb;help;del' {
            break
        }
        'syncdb;help;ls' {
            break
        }
        'syncdb;help;find' {
            break
        }
        'syncdb;help;drop' {
            break
        }
        'syncdb;help;watch' {
            break
        }
        'syncdb;help;status' {
            break
        }
        'syncdb;help;folder' {
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List registered folders: id, path, engine, remotes, whether the path is there')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Forget a folder: stop syncing it and unregister it; its files stay unless --delete-files')
            [CompletionResult]::new('mv', 'mv', [CompletionResultType]::ParameterValue, 'Move a folder and keep it registered; or re-point one moved by hand')
            break
        }
        'syncdb;help;folder;ls' {
            break
        }
        'syncdb;help;folder;rm' {
            break
        }
        'syncdb;help;folder;mv' {
            break
        }
        'syncdb;help;remote' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add (or replace) a remote and start syncing with it')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the remotes with their connection state')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a remote and stop syncing with it')
            break
        }
        'syncdb;help;remote;add' {
            break
        }
        'syncdb;help;remote;ls' {
            break
        }
        'syncdb;help;remote;rm' {
            break
        }
        'syncdb;help;clone' {
            break
        }
        'syncdb;help;sync' {
            break
        }
        'syncdb;help;digest' {
            break
        }
        'syncdb;help;repair' {
            break
        }
        'syncdb;help;serve' {
            break
        }
        'syncdb;help;http' {
            break
        }
        'syncdb;help;token' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a token and print it (shown once; only its hash is kept)')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List tokens (ids and scopes; never the secrets)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token by id; sessions using it end at once')
            break
        }
        'syncdb;help;token;create' {
            break
        }
        'syncdb;help;token;ls' {
            break
        }
        'syncdb;help;token;revoke' {
            break
        }
        'syncdb;help;daemon' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the daemon in the background if it is not running')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running daemon and wait until it has exited')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether the daemon runs (exit code 4 if not)')
            break
        }
        'syncdb;help;daemon;run' {
            break
        }
        'syncdb;help;daemon;start' {
            break
        }
        'syncdb;help;daemon;stop' {
            break
        }
        'syncdb;help;daemon;status' {
            break
        }
        'syncdb;help;service' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Write the service file and start the daemon with your session')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop the service and remove its file')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether the service is installed and what the service manager reports')
            break
        }
        'syncdb;help;service;install' {
            break
        }
        'syncdb;help;service;uninstall' {
            break
        }
        'syncdb;help;service;status' {
            break
        }
        'syncdb;help;config' {
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file''s path')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the config in effect (defaults filled in)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a config file (the current one by default); errors name the line')
            break
        }
        'syncdb;help;config;path' {
            break
        }
        'syncdb;help;config;show' {
            break
        }
        'syncdb;help;config;check' {
            break
        }
        'syncdb;help;index' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Index a collection on one or more fields, and build the index')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Remove an index and its entries (queries scan again)')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List indexes: of every database of the folder, of DB, or of DB/COLL')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check indexes against their records; exit 1 when one is out of step')
            break
        }
        'syncdb;help;index;create' {
            break
        }
        'syncdb;help;index;drop' {
            break
        }
        'syncdb;help;index;ls' {
            break
        }
        'syncdb;help;index;check' {
            break
        }
        'syncdb;help;schema' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database''s records')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a database''s schema from FILE; its version must be above the current one')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a database''s schema in force (and the versions it holds)')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what `schema set DB FILE` would change and what its steps would touch')
            break
        }
        'syncdb;help;schema;check' {
            break
        }
        'syncdb;help;schema;set' {
            break
        }
        'syncdb;help;schema;show' {
            break
        }
        'syncdb;help;schema;diff' {
            break
        }
        'syncdb;help;reset' {
            break
        }
        'syncdb;help;cleanup' {
            break
        }
        'syncdb;help;replica' {
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List each database''s replica here (site id, horizon) and, on a hub, the replicas it serves: when each was last seen, and whether it is live or retired')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Retire a replica by hand (a lost laptop): it no longer holds cleanup back')
            break
        }
        'syncdb;help;replica;ls' {
            break
        }
        'syncdb;help;replica;rm' {
            break
        }
        'syncdb;help;compact' {
            break
        }
        'syncdb;help;backup' {
            break
        }
        'syncdb;help;restore' {
            break
        }
        'syncdb;help;export' {
            break
        }
        'syncdb;help;logs' {
            break
        }
        'syncdb;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
