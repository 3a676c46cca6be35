// wavesurfer.js under the app's strict Content-Security-Policy (style-src 'self', no
// 'unsafe-inline'). Its renderer writes a <style> element into its shadow root, which the
// CSP would block (and report). Before that shadow root is attached to the page, the
// <style> is taken out and its rules given to the shadow root as a constructed
// stylesheet: a CSSOM object, which the CSP allows like element.style.
import WaveSurfer from 'wavesurfer.js/dist/wavesurfer.js';
import Renderer from 'wavesurfer.js/dist/renderer.js';

const initHtml = Renderer.prototype.initHtml;
Renderer.prototype.initHtml = function initHtmlWithoutInlineStyle(...args) {
  const [div, shadow] = initHtml.apply(this, args);
  const style = shadow.querySelector('style');
  if (style) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(style.textContent || '');
    shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
    style.remove();
  }
  return [div, shadow];
};

/**
 * A waveform drawn in `container`, playing through `media` (an <audio> element the caller
 * owns, whose src streams with range requests). `url` is fetched once more, whole, to
 * draw the waveform: the same address as the media's, so the media keeps its stream.
 */
export function createWaveform(container, media, url) {
  return WaveSurfer.create({
    container,
    media,
    url,
    height: 72,
    waveColor: '#9fb3d1',
    progressColor: '#0b3d91',
    cursorColor: '#c8102e',
    cursorWidth: 2,
    barWidth: 2,
    barGap: 1,
    barRadius: 1,
    normalize: true,
    dragToSeek: true,
    fetchParams: { credentials: 'same-origin', cache: 'no-store' },
  });
}
