"""How failures reach the user: one line on stderr and an exit code (1: the operation failed, 2: the
command line was wrong), never a traceback."""

from __future__ import annotations

from typing import Any

import click

import omendb


class CliError(click.ClickException):
    """A failure reported as ``Error: <message>`` on stderr, exit code 1 (or ``exit_code``)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Group(click.Group):
    """The ``omendb`` command group: turns OmenDB's exceptions and OS errors raised by a command
    into one-line errors, and prints usage errors on one line with a pointer to ``--help``."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand, translating its exceptions."""
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise _one_line(error) from None
        except omendb.FilterError as error:
            raise click.UsageError(f"invalid --where filter: {error}") from None
        except omendb.Error as error:
            raise CliError(f"{type(error).__name__}: {error}") from None
        except BrokenPipeError:
            raise  # click handles a closed stdout (``omendb info | head``)
        except OSError as error:
            raise CliError(os_error_message(error)) from None


def _one_line(error: click.UsageError) -> click.UsageError:
    """The usage error without the usage lines Click would print before it."""
    if error.ctx is not None:
        error.message = f"{error.message} (see '{error.ctx.command_path} --help')"
        error.ctx = None
    return error


def os_error_message(error: OSError) -> str:
    """``<file>: <reason>`` for an OSError, as the shell's tools print them."""
    if error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error)
