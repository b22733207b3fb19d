import * as vscode from 'vscode';
import type { HostKeyDecision, HostKeyInfo } from '../core/index.js';

/** The first-use prompt: a modal with the fingerprint, as OpenSSH asks on the command line. */
export async function confirmNewHostKey(info: HostKeyInfo): Promise<HostKeyDecision> {
  const save = 'Accept and Save';
  const once = 'Accept Once';
  const choice = await vscode.window.showWarningMessage(
    `The authenticity of host "${info.host}" can't be established.`,
    {
      modal: true,
      detail: `${info.keyType} key fingerprint is ${info.fingerprint}.\n\nCompare it with the one the server's owner gives you (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before you accept.`,
    },
    save,
    once,
  );
  return choice === save ? 'accept-and-save' : choice === once ? 'accept-once' : 'reject';
}
