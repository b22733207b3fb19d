/** The evidence sections a control can draw on (each is a table of the report). */
export type SectionId = 'integrity' | 'accessHolders' | 'grants' | 'removals' | 'reviews' | 'signIns' | 'failedSignIns' | 'denied' | 'sessions' | 'adminActions';

/** The gaps a report checks for (gaps.ts decides each). */
export type GapId =
  | 'log-not-intact'
  | 'no-checkpoint-covers-period'
  | 'entries-differ-from-log'
  | 'details-unreadable'
  | 'no-records'
  | 'no-access-review'
  | 'grants-without-expiry'
  | 'failed-sign-ins-without-follow-up'
  | 'no-admin-actions';

export interface Control {
  id: string;
  title: string;
  /** What the control asks, in our words (not the framework's text). */
  asks: string;
  /** Where Tether's evidence stops for this control. */
  scope?: string;
  sections: SectionId[];
  gaps: GapId[];
}

export interface Framework {
  id: FrameworkId;
  name: string;
  controls: Control[];
}

export const FRAMEWORK_IDS = ['soc2', 'iso27001', 'hipaa'] as const;
export type FrameworkId = (typeof FRAMEWORK_IDS)[number];

const LOG: GapId[] = ['log-not-intact', 'entries-differ-from-log', 'no-checkpoint-covers-period'];

// The controls Tether's audit log speaks to, each paraphrased. The frameworks' own wording is
// theirs (AICPA, ISO, HHS): an auditor reads it there; these sentences say what the evidence is for.
const FRAMEWORKS: Record<FrameworkId, Framework> = {
  soc2: {
    id: 'soc2',
    name: 'SOC 2 (Trust Services Criteria, Common Criteria)',
    controls: [
      { id: 'CC6.1', title: 'Logical access security', asks: 'Access to systems is limited to identified, authenticated users, through access controls that protect what they reach.', sections: ['accessHolders', 'signIns', 'denied', 'integrity'], gaps: ['grants-without-expiry', ...LOG] },
      { id: 'CC6.2', title: 'Registering and authorising users', asks: 'People are registered and their access authorised before they are given credentials, and their credentials are withdrawn when they no longer need them.', sections: ['adminActions', 'grants', 'reviews'], gaps: ['no-admin-actions', 'no-access-review'] },
      { id: 'CC6.3', title: 'Granting, changing and removing access', asks: 'Access is given, changed and taken away according to roles and least privilege, with approval, and reviewed.', sections: ['grants', 'removals', 'reviews', 'accessHolders'], gaps: ['no-access-review', 'grants-without-expiry'] },
      { id: 'CC6.6', title: 'Access from outside the system boundary', asks: 'Connections from outside are authenticated and restricted, and attempts that fail are noticed.', sections: ['signIns', 'failedSignIns', 'sessions'], gaps: ['failed-sign-ins-without-follow-up'] },
      { id: 'CC7.2', title: 'Monitoring for anomalies', asks: 'The system is watched for unusual activity that may signal an attack or an error, and what is found is analysed.', sections: ['failedSignIns', 'denied', 'sessions', 'integrity'], gaps: ['failed-sign-ins-without-follow-up', 'details-unreadable', ...LOG] },
    ],
  },
  iso27001: {
    id: 'iso27001',
    name: 'ISO/IEC 27001:2022 Annex A',
    controls: [
      { id: 'A.5.15', title: 'Access control', asks: 'Rules decide who may reach which information and systems, following business and security needs.', sections: ['accessHolders', 'denied'], gaps: ['grants-without-expiry'] },
      { id: 'A.5.16', title: 'Identity management', asks: 'Identities are managed through their whole life: created, changed and removed.', sections: ['adminActions'], gaps: ['no-admin-actions'] },
      { id: 'A.5.18', title: 'Access rights', asks: 'Access rights are provided, reviewed at intervals, changed and removed following the access rules.', sections: ['grants', 'removals', 'reviews', 'accessHolders'], gaps: ['no-access-review', 'grants-without-expiry'] },
      { id: 'A.8.5', title: 'Secure authentication', asks: 'Sign-in is secure, and failed attempts are recorded and acted on.', sections: ['signIns', 'failedSignIns'], gaps: ['failed-sign-ins-without-follow-up'] },
      { id: 'A.8.15', title: 'Logging', asks: 'Logs of activity, exceptions and faults are produced, kept, protected from change and analysed.', sections: ['integrity', 'adminActions'], gaps: ['details-unreadable', 'no-records', ...LOG] },
      { id: 'A.8.16', title: 'Monitoring activities', asks: 'Networks and systems are watched for behaviour out of the ordinary, and it is looked into.', sections: ['failedSignIns', 'denied', 'sessions'], gaps: ['failed-sign-ins-without-follow-up'] },
    ],
  },
  hipaa: {
    id: 'hipaa',
    name: 'HIPAA Security Rule, technical safeguards (45 CFR §164.312)',
    controls: [
      { id: '§164.312(a)(1)', title: 'Access control', asks: 'Only the people and programs that have been given access rights may reach systems holding electronic protected health information.', sections: ['accessHolders', 'grants', 'removals', 'reviews', 'denied'], gaps: ['grants-without-expiry'] },
      { id: '§164.312(b)', title: 'Audit controls', asks: 'Activity in systems holding electronic protected health information is recorded and can be examined.', sections: ['integrity', 'sessions', 'adminActions'], gaps: ['details-unreadable', 'no-records', ...LOG] },
      { id: '§164.312(c)(1)', title: 'Integrity', asks: 'Electronic protected health information is protected from being changed or destroyed without authority.', scope: "Tether carries connections; it does not hold the information itself. The evidence here is the integrity of the access record (the audit log), not of the data behind the tunnels.", sections: ['integrity'], gaps: LOG },
      { id: '§164.312(d)', title: 'Person or entity authentication', asks: 'Anyone seeking access is verified to be who they claim to be.', sections: ['signIns', 'failedSignIns'], gaps: ['failed-sign-ins-without-follow-up'] },
    ],
  },
};

/** The control catalogue of a framework. */
export function frameworkOf(id: FrameworkId): Framework {
  return FRAMEWORKS[id];
}
