/** The diagnostics panel's CSS: theme colours only, so it follows the colour theme. */
export const DIAGNOSTICS_CSS = `
  body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 16px 24px; }
  header { display: flex; align-items: center; gap: 12px; position: sticky; top: 0; background: var(--vscode-editor-background); padding: 8px 0; z-index: 1; }
  header h2 { margin: 0; font-size: 1.3em; font-weight: 600; }
  .spacer { flex: 1; }
  .dim { color: var(--vscode-descriptionForeground); }
  .notice { padding: 6px 10px; border-left: 4px solid var(--vscode-textLink-foreground); background: var(--vscode-textBlockQuote-background); }
  vscode-collapsible { margin-top: 8px; }
  .section { padding: 8px 12px 12px; }
  h3 { font-size: 1.05em; margin: 8px 0 4px; font-weight: 600; }
  .rtt-line { margin: 4px 0 8px; }
  .rtt-now { font-size: 1.2em; color: var(--vscode-charts-blue); }
  table { border-collapse: collapse; width: 100%; margin-bottom: 8px; }
  th { text-align: left; font-weight: 600; color: var(--vscode-descriptionForeground); border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-widget-border)); padding: 4px 8px; }
  td { padding: 4px 8px; border-bottom: 1px solid var(--vscode-editorGroup-border, transparent); vertical-align: top; }
  tr.active td { background: var(--vscode-list-inactiveSelectionBackground); }
  td.relay { white-space: nowrap; }
  .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  code { font-family: var(--vscode-editor-font-family); font-size: 0.95em; }
  .state { padding: 1px 6px; border-radius: 3px; font-size: 0.9em; border: 1px solid currentColor; }
  .state-up { color: var(--vscode-charts-green); }
  .state-connecting, .state-draining { color: var(--vscode-charts-yellow); }
  .state-down, .state-failed { color: var(--vscode-charts-red); }
  .state-idle { color: var(--vscode-descriptionForeground); }
  .advice { color: var(--vscode-descriptionForeground); margin-top: 2px; }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
  figure { margin: 0; }
  figcaption { margin-bottom: 4px; color: var(--vscode-descriptionForeground); }
  .legends { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 0.9em; margin-top: 2px; }
  .legend::before { content: ''; display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; background: currentColor; }
  svg.chart { width: 100%; height: auto; background: var(--vscode-editorWidget-background, transparent); border: 1px solid var(--vscode-panel-border, var(--vscode-widget-border)); }
  svg .grid { stroke: var(--vscode-editorRuler-foreground, var(--vscode-panel-border)); stroke-width: 1; stroke-dasharray: 2 3; }
  svg .axis, svg .count { fill: var(--vscode-descriptionForeground); font-size: 10px; font-family: var(--vscode-font-family); }
  svg .line { fill: none; stroke-width: 1.6; stroke: currentColor; }
  svg .dot { fill: currentColor; }
  svg .bar { fill: var(--vscode-charts-blue); }
  svg .marker { stroke-width: 1.5; stroke-dasharray: 4 2; stroke: currentColor; }
  svg.spark { vertical-align: middle; margin-right: 6px; }
  .series-0 { color: var(--vscode-charts-blue); }
  .series-1 { color: var(--vscode-charts-orange); }
  .series-2 { color: var(--vscode-charts-purple); }
  .series-3 { color: var(--vscode-charts-green); }
  .series-4 { color: var(--vscode-charts-yellow); }
  .series-5 { color: var(--vscode-charts-foreground, var(--vscode-foreground)); }
  .mark-failover, .mark-no-relay { color: var(--vscode-charts-red); }
  .mark-failback { color: var(--vscode-charts-green); }
  .mark-resumed { color: var(--vscode-charts-yellow); }
  ol.timeline { list-style: none; padding: 0; margin: 0; max-height: 280px; overflow-y: auto; }
  .event { padding: 2px 0; }
  .event .time { color: var(--vscode-descriptionForeground); font-variant-numeric: tabular-nums; }
  .event .kind { display: inline-block; min-width: 70px; font-weight: 600; }
  .event .where { color: var(--vscode-textLink-foreground); }
  .event-failover .kind, .event-relay-down .kind, .event-error .kind, .event-no-relay .kind { color: var(--vscode-charts-red); }
  .event-resumed .kind, .event-detached .kind { color: var(--vscode-charts-yellow); }
  .event-relay-up .kind, .event-failback .kind { color: var(--vscode-charts-green); }
`;
