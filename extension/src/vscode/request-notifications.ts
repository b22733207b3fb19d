import * as vscode from 'vscode';
import { describePendingRequest, describeReviewed, RelayApi, RequestWatcher, type AccessRequestInfo } from '../core/index.js';
import type { Auth, Credentials } from './auth.js';
import type { Logger } from './logger.js';
import type { Notifier } from './notify.js';

/**
 * One notification per new access request the signed-in user may review (as the tunnel's owner
 * or an admin): checked at sign-in and every 30 s while signed in, with Approve, Deny and Open
 * Panel. The watching itself (what is new, when to ask) is core's RequestWatcher.
 */
export class RequestNotifications implements vscode.Disposable {
  private watcher: RequestWatcher | undefined;
  private current: Credentials | undefined;
  private readonly subscription: vscode.Disposable;
  private readonly seen = new vscode.EventEmitter<AccessRequestInfo>();
  /** A new pending request was announced, or one was reviewed here (the sharing panel refreshes). */
  readonly onDidChange = this.seen.event;

  constructor(
    private readonly auth: Auth,
    private readonly notifier: Notifier,
    private readonly logger: Logger,
  ) {
    this.subscription = auth.onDidChange((credentials) => this.watch(credentials));
    this.watch(auth.credentials);
  }

  /** Asks the relay now (after a review elsewhere, say). */
  refresh(): Promise<void> {
    return this.watcher?.poll() ?? Promise.resolve();
  }

  private watch(credentials: Credentials | undefined): void {
    // Auth fires while a sign-in is being checked too: the same identity keeps its watcher.
    if (this.current === credentials && this.watcher) return;
    this.watcher?.stop();
    this.watcher = undefined;
    this.current = credentials;
    if (!credentials || !credentials.user) return;
    const api = new RelayApi(credentials.relay, credentials.token);
    this.watcher = new RequestWatcher({
      user: credentials.user,
      list: () => api.accessRequests(true),
      onRequest: (request) => {
        if (this.auth.credentials !== credentials) return;
        this.announce(credentials, request);
        this.seen.fire(request);
      },
      onError: (err) => this.logger.warn(`cannot list access requests: ${err instanceof Error ? err.message : String(err)}`),
    });
    this.watcher.start();
  }

  private announce(credentials: Credentials, request: AccessRequestInfo): void {
    const review = (decision: 'approve' | 'deny') => () => this.review(credentials, request, decision);
    this.notifier.info(
      describePendingRequest(request),
      { title: 'Approve', run: review('approve') },
      { title: 'Deny', run: review('deny') },
      { title: 'Open Panel', run: () => vscode.commands.executeCommand('tether.manageSharing', request.tunnel) },
    );
  }

  /** Approve or Deny from a notification: an optional reason, then the relay; failures as sentences. */
  async review(credentials: Credentials, request: AccessRequestInfo, decision: 'approve' | 'deny'): Promise<void> {
    const verb = decision === 'approve' ? 'Approving' : 'Denying';
    const reason = await vscode.window.showInputBox({
      title: `Tether: ${decision === 'approve' ? 'Approve' : 'Deny'} ${request.user}'s request for ${request.role} on ${request.tunnel}`,
      prompt: 'Reason (optional: the requester sees it)',
      ignoreFocusOut: true,
    });
    if (reason === undefined) return;
    try {
      const api = new RelayApi(credentials.relay, credentials.token);
      const reviewed = await api.reviewRequest(request.id, decision, reason.trim() || undefined);
      this.notifier.info(`Tether: ${describeReviewed(reviewed, decision)}`);
      this.seen.fire(reviewed);
    } catch (err) {
      this.notifier.failure(err, `${verb} ${request.user}'s request ${request.id}`);
    }
  }

  dispose(): void {
    this.watcher?.stop();
    this.subscription.dispose();
    this.seen.dispose();
  }
}
