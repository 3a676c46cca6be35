// The post-call insight card on the timeline page: summary, the customer's sentiment and
// the QA scorecard (GET /api/conversations/{id}/insight).
import { apiGet, convPath } from '../lib/api.js';
import { byTestId, h, pill, setChildren } from '../lib/dom.js';

const SENTIMENT_PILL = { positive: 'good', negative: 'bad', neutral: 'neutral' };

function sentimentPill(label, score, testid) {
  if (!label) return pill('no customer speech', 'neutral', testid);
  return pill(`${label} (${Number(score).toFixed(2)})`, SENTIMENT_PILL[label] || 'neutral', testid);
}

function summaryPart(summary) {
  if (!summary) return h('p', { class: 'muted', testid: 'insight-summary' }, 'Not summarised yet.');
  const llm = summary.llm
    ? h('p', { testid: 'insight-llm-summary' }, summary.llm.text,
      h('span', { class: 'muted small' }, ` (${summary.llm.model})`))
    : null;
  return h('div', { testid: 'insight-summary' },
    h('p', { testid: 'insight-summary-text' }, summary.text),
    llm);
}

function qaList(qa) {
  if (!qa.length) return h('p', { class: 'muted small', testid: 'insight-qa-empty' }, 'Scored when the call ends.');
  return h('ul', { class: 'qa-list', testid: 'insight-qa' }, qa.map((q) => h('li',
    { class: ['qa-rule', q.passed ? 'qa-pass' : 'qa-fail'], testid: 'insight-qa-rule', dataset: { rule: q.rule, passed: String(q.passed) } },
    pill(q.passed ? 'pass' : 'fail', q.passed ? 'good' : 'bad'),
    ' ', h('span', { class: 'mono small' }, q.rule),
    ' — ', h('span', { class: 'small', testid: 'insight-qa-reason' }, q.reason))));
}

/** Loads and shows the call's insight; a failure shows in the card, not the page. */
export async function renderInsight(conversationId) {
  const box = byTestId('insight');
  try {
    const insight = await apiGet(convPath(conversationId, '/insight'));
    const sentiment = insight.sentiment || {};
    const turns = sentiment.turns || [];
    setChildren(box,
      summaryPart(insight.summary),
      h('p', {}, h('strong', {}, 'Customer sentiment: '),
        sentimentPill(sentiment.label, sentiment.score, 'insight-sentiment'),
        h('span', { class: 'muted small' }, ` over ${turns.length} line${turns.length === 1 ? '' : 's'}`)),
      h('h3', {}, 'QA scorecard'),
      qaList(insight.qa || []));
  } catch (err) {
    setChildren(box, h('p', { class: 'error', testid: 'insight-error' }, `Could not load the insight: ${err.message}`));
  }
}
