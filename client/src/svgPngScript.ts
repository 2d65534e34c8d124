// Webview script shared by the run chart and the Compare view: draws the page's
// SVG charts, stacked, on one canvas and posts it back as a PNG data URL.
// Styles are inlined first, because a serialized SVG loses the page's CSS (and
// its theme variables). Embedded as source: it runs in the webview, not here.

/** Defines `exportSvgsAsPng(ids, defaultWidth, defaultHeight)`; needs `vscode` in scope. */
export const SVG_PNG_SCRIPT = `
  function exportSvgsAsPng(ids, defaultWidth, defaultHeight) {
    const NS = 'http://www.w3.org/2000/svg';
    const svgs = ids.map((id) => document.getElementById(id));
    const width = Math.max(...svgs.map((s) => s.clientWidth || defaultWidth));
    const heights = svgs.map((s) => s.clientHeight || defaultHeight);
    const total = heights.reduce((a, b) => a + b, 0);
    const canvas = document.createElement('canvas');
    canvas.width = width * 2;
    canvas.height = total * 2;
    const context = canvas.getContext('2d');
    context.scale(2, 2);
    context.fillStyle = getComputedStyle(document.body).backgroundColor || '#1e1e1e';
    context.fillRect(0, 0, width, total);
    let y = 0;
    let left = svgs.length;
    svgs.forEach((svg, index) => {
      const copy = svg.cloneNode(true);
      copy.setAttribute('xmlns', NS);
      copy.setAttribute('width', String(width));
      copy.setAttribute('height', String(heights[index]));
      const originals = svg.querySelectorAll('*');
      copy.querySelectorAll('*').forEach((node, i) => {
        const style = getComputedStyle(originals[i]);
        node.setAttribute('style', 'stroke:' + style.stroke + ';fill:' + style.fill + ';stroke-width:' + style.strokeWidth + ';font:' + style.font);
      });
      const image = new Image();
      const top = y;
      y += heights[index];
      image.onload = () => {
        context.drawImage(image, 0, top, width, heights[index]);
        if (--left === 0) vscode.postMessage({ type: 'png', data: canvas.toDataURL('image/png') });
      };
      image.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(new XMLSerializer().serializeToString(copy));
    });
  }
`;
