// The training panel's logic, free of the DOM: which controls are live in each state, what a
// visibility change does, the status line, and the plot series (thinned for long runs).

import type { TrainEvalPoint, TrainPauseReason, TrainProgress, TrainSnapshot } from './protocol';

export interface Controls {
  choose: boolean;
  start: boolean;
  pause: boolean;
  resume: boolean;
  reset: boolean;
  useModel: boolean;
  exportWeights: boolean;
}

/** What the user may press: `busy` while a request is in flight, `confirming` while a reset asks. */
export function controlsFor(s: TrainSnapshot['state'], busy: boolean, confirming: boolean): Controls {
  const none: Controls = { choose: false, start: false, pause: false, resume: false, reset: false, useModel: false, exportWeights: false };
  if (busy || confirming) return none;
  const hasModel = s !== 'idle';
  return {
    choose: s === 'idle',
    start: s === 'idle',
    pause: s === 'running',
    resume: s === 'paused',
    reset: hasModel,
    useModel: hasModel,
    exportWeights: hasModel,
  };
}

/** A hidden tab pauses a running run; showing it again resumes only what hiding paused. */
export function visibilityAction(snap: Pick<TrainSnapshot, 'state' | 'pausedBy'>, hidden: boolean): 'pause' | 'resume' | null {
  if (hidden) return snap.state === 'running' ? 'pause' : null;
  return snap.state === 'paused' && snap.pausedBy === 'hidden' ? 'resume' : null;
}

/** Seconds left, or null when the rate is unknown. */
export function etaSeconds(p: Pick<TrainProgress, 'step' | 'totalSteps' | 'stepsPerSecond'>): number | null {
  if (!(p.stepsPerSecond > 0) || p.totalSteps <= 0) return null;
  return Math.max(0, p.totalSteps - p.step) / p.stepsPerSecond;
}

export function formatEta(s: number | null): string {
  if (s === null) return 'ETA unknown';
  if (s < 60) return `ETA ${Math.round(s)} s`;
  if (s < 3600) return `ETA ${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `ETA ${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Steps per second, or seconds per step when slower than one a second (a software GPU). */
export function formatRate(sps: number): string {
  if (!(sps > 0)) return '… steps/s';
  return sps >= 1 ? `${sps.toFixed(1)} steps/s` : `${(1 / sps).toFixed(1)} s/step`;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

const PAUSED_BY: Record<TrainPauseReason | 'reload', string> = {
  user: 'paused',
  hidden: 'paused while the tab was hidden',
  reload: 'restored from its checkpoint after a reload',
};

/** One line under the progress bar. */
export function statusLine(snap: TrainSnapshot, last: TrainProgress | undefined): string {
  const run = snap.run;
  if (!run) return snap.message || 'Choose a task and a model size, then Start.';
  const step = last?.step ?? run.step;
  const saved = snap.savedStep === null ? 'no checkpoint yet' : `checkpoint at step ${snap.savedStep}`;
  const ev = snap.evals.at(-1);
  const held = ev ? ` · held-out exact ${pct(ev.exactAccuracy)} (step ${ev.step})` : '';
  const note = snap.message ? ` ${snap.message}` : '';
  switch (snap.state) {
    case 'running': {
      const rate = last ? ` · ${formatRate(last.stepsPerSecond)} · ${formatEta(etaSeconds(last))}` : '';
      return `Training: step ${step}/${run.totalSteps}${rate}${held} · ${saved}.${note}`;
    }
    case 'paused': {
      const why = PAUSED_BY[snap.pausedBy ?? 'user'];
      return `Step ${step}/${run.totalSteps}, ${why}${held} · ${saved}. Resume continues from here.${note}`;
    }
    case 'done':
      return `Finished: ${step}/${run.totalSteps} steps${held} · ${saved}.${note}`;
    case 'idle':
      return snap.message;
  }
}

/** At most `max` points, evenly spaced, always keeping the last one (so the plot ends at "now"). */
export function thin<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const stride = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % stride === 0);
  if (out.at(-1) !== points.at(-1)) out.push(points.at(-1)!);
  return out;
}

export interface Series {
  loss: [number, number][];
  exact: [number, number][];
  heldOut: [number, number][];
  speed: [number, number][];
}

export function series(history: readonly TrainProgress[], evals: readonly TrainEvalPoint[], max = 400): Series {
  const h = thin(history, max);
  return {
    loss: h.map((p) => [p.step, p.loss]),
    exact: h.map((p) => [p.step, p.exactAccuracy]),
    heldOut: thin(evals, max).map((p) => [p.step, p.exactAccuracy]),
    speed: h.map((p) => [p.step, p.stepsPerSecond]),
  };
}
