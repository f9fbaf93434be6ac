// Worksheet text as safe, simple markdown: headings, paragraphs, lists, fenced code, inline code,
// emphasis and links. Everything becomes React text or elements, never raw HTML, so a worksheet
// cannot inject markup; a link keeps only http(s), mailto and relative targets.
import type { ReactNode } from 'react';

type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'code'; text: string };

const LIST_ITEM = /^\s*([-*+]|\d+[.)])\s+(.*)$/;

/** Splits text into blocks, line by line. Pure. */
export function parseBlocks(source: string): Block[] {
  const blocks: Block[] = [];
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length > 0) blocks.push({ kind: 'paragraph', text: paragraph.join(' ') });
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = LIST_ITEM.exec(line);
    if (line.startsWith('```')) {
      endParagraph();
      const code: string[] = [];
      for (i += 1; i < lines.length && !(lines[i] ?? '').startsWith('```'); i += 1) code.push(lines[i] ?? '');
      blocks.push({ kind: 'code', text: code.join('\n') });
    } else if (heading) {
      endParagraph();
      blocks.push({ kind: 'heading', level: heading[1]?.length ?? 1, text: heading[2] ?? '' });
    } else if (item) {
      endParagraph();
      const ordered = /\d/.test(item[1] ?? '');
      const last = blocks.at(-1);
      if (last?.kind === 'list' && last.ordered === ordered) last.items.push(item[2] ?? '');
      else blocks.push({ kind: 'list', ordered, items: [item[2] ?? ''] });
    } else if (line.trim() === '') endParagraph();
    else paragraph.push(line.trim());
  }
  endParagraph();
  return blocks;
}

const INLINE = /`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|\*([^*]+)\*/g;

export function isSafeHref(href: string): boolean {
  return /^(https?:|mailto:)/i.test(href) || /^[/#?.]/.test(href) || !/^[a-z][a-z0-9+.-]*:/i.test(href);
}

function renderInline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let at = 0;
  for (const match of text.matchAll(INLINE)) {
    const start = match.index;
    if (start > at) out.push(text.slice(at, start));
    const key = out.length;
    const [, code, label, href, strong, em] = match;
    if (code !== undefined) out.push(<code key={key}>{code}</code>);
    else if (label !== undefined && href !== undefined) {
      out.push(isSafeHref(href) ? <a key={key} href={href} rel="noopener noreferrer">{label}</a> : label);
    } else if (strong !== undefined) out.push(<strong key={key}>{strong}</strong>);
    else if (em !== undefined) out.push(<em key={key}>{em}</em>);
    at = start + match[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/** Worksheet headings start at h2: the worksheet's title is the page's h1. */
function Heading({ level, children }: { level: number; children: ReactNode }) {
  const shown = Math.min(6, level + 1);
  if (shown === 2) return <h2>{children}</h2>;
  if (shown === 3) return <h3>{children}</h3>;
  if (shown === 4) return <h4>{children}</h4>;
  if (shown === 5) return <h5>{children}</h5>;
  return <h6>{children}</h6>;
}

export function Markdown({ source }: { source: string }) {
  return (
    <div className="markup">
      {parseBlocks(source).map((block, index) => {
        switch (block.kind) {
          case 'heading':
            return <Heading key={index} level={block.level}>{renderInline(block.text)}</Heading>;
          case 'paragraph':
            return <p key={index}>{renderInline(block.text)}</p>;
          case 'code':
            return <pre key={index}><code>{block.text}</code></pre>;
          case 'list': {
            const items = block.items.map((item, n) => <li key={n}>{renderInline(item)}</li>);
            return block.ordered ? <ol key={index}>{items}</ol> : <ul key={index}>{items}</ul>;
          }
        }
      })}
    </div>
  );
}
