"""The ``bgfetch`` command's subcommands (``bgfetch/cli.py`` parses the command line).

* :mod:`~bgfetch.command.fetch`: ``bgfetch fetch``, a background fetch on the real
  network, start to finish (or resumed from a store);
* :mod:`~bgfetch.command.workers`: the built-in service worker that saves each record's
  body to a directory, ``--worker MODULE:OBJECT``, and the watch on the completion event;
* :mod:`~bgfetch.command.files`: safe, unique file names inside the output directory;
* :mod:`~bgfetch.command.progress`: the live display (a terminal) or plain lines (a pipe);
* :mod:`~bgfetch.command.stored`: the store, and ``bgfetch list``, ``show`` and ``abort``;
* :mod:`~bgfetch.command.output`: exit codes, one-line errors, and a reader that went away.
"""
