import * as vscode from 'vscode';
import { describeFailure } from './failures.js';
import type { Logger } from './logger.js';

/** Shows each failure as one notification with the actions that help, and logs it. */
export class Notifier {
  constructor(private readonly logger: Logger) {}

  /**
   * Never throws and never waits for the user: commands return at once while the
   * notification stays up. `retry` runs when the user picks Retry.
   */
  failure(err: unknown, doing: string, retry?: () => unknown, severity: 'error' | 'warning' = 'error'): void {
    const advice = describeFailure(err, doing, retry !== undefined);
    this.logger.error(advice.message);
    if (err instanceof Error && err.stack) this.logger.debug(err.stack);
    const show = severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    show(advice.message, ...advice.actions).then(
      (choice) => {
        if (choice === 'Retry') void Promise.resolve().then(retry).catch((e: unknown) => this.failure(e, doing, retry));
        else if (choice === 'Sign In') void vscode.commands.executeCommand('tether.signIn');
        else if (choice === 'Show Log') this.logger.show();
      },
      (e: unknown) => this.logger.error(`cannot show a notification: ${String(e)}`),
    );
  }

  info(message: string, ...actions: { title: string; run: () => unknown }[]): void {
    this.logger.info(message);
    this.show(vscode.window.showInformationMessage, message, actions);
  }

  /** Something worked, but not as the user will expect (a tunnel that is offline, say). */
  warn(message: string, ...actions: { title: string; run: () => unknown }[]): void {
    this.logger.warn(message);
    this.show(vscode.window.showWarningMessage, message, actions);
  }

  private show(
    kind: (message: string, ...items: string[]) => Thenable<string | undefined>,
    message: string,
    actions: { title: string; run: () => unknown }[],
  ): void {
    kind(message, ...actions.map((a) => a.title)).then(
      (choice) => {
        const action = actions.find((a) => a.title === choice);
        // An action that asks something (the SSH user, say) and is dismissed just stops.
        if (action) void Promise.resolve().then(action.run).catch((e: unknown) => e instanceof Cancelled || this.failure(e, choice ?? 'Action'));
      },
      () => undefined,
    );
  }
}

/** Thrown (and swallowed by `guarded`) when the user dismisses a prompt. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Wraps a command so that no rejection escapes: a failure becomes one notification whose
 * Retry runs the command again with the same arguments.
 */
export function guarded<A extends unknown[]>(notifier: Notifier, doing: string, run: (...args: A) => Promise<unknown>): (...args: A) => Promise<void> {
  const wrapped = async (...args: A): Promise<void> => {
    try {
      await run(...args);
    } catch (err) {
      if (err instanceof Cancelled) return;
      notifier.failure(err, doing, () => wrapped(...args));
    }
  };
  return wrapped;
}
