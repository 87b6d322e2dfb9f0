// Every sentence of the audit's readable report, one table per language (like
// consent-ui/texts.js). Each entry is a function of the figures it shows.

const s1 = (ms) => (ms / 1000).toFixed(1);
const c2 = (x) => x.toFixed(2);

export const en = {
  title: (url) => `consentminer audit of ${url}`,
  how: (r) => `Visited as a first-time visitor in ${r.browser}, without a click, and watched ${r.seconds} s in each phase: ` +
    'on load, after scrolling, while the tab was hidden, after it was shown again, after a remembered Decline' +
    (r.accept ? ', then after Accept.' : '.'),
  phase: { load: 'on load', scroll: 'after scrolling', hidden: 'tab hidden', shown: 'tab shown again', declined: 'after Decline',
    accept: 'after Accept', start: 'starting' },
  pass: 'PASS: nothing mined before the visitor consented.',
  fail: 'FAIL: see the reasons below.',
  error: (m) => `NOT AUDITED: ${m}`,
  miningHead: 'Mining before consent:',
  noMining: 'Mining before consent: none (no stratum request on any transport; no WebAssembly + worker + sustained worker CPU).',
  stratum: (f, ph) => `at ${s1(f.at)} s (${ph}): stratum "${f.method}" sent on ${f.transport} ${f.url} by ${f.initiator}` +
    (f.count > 1 ? `, ${f.count} times until ${s1(f.lastAt)} s` : ''),
  wasmPattern: (f, ph) => `at ${s1(f.at)} s (${ph}): WebAssembly compiled in ${f.wasmContext}` +
    `${f.wasmInitiator !== f.wasmContext ? ` (by ${f.wasmInitiator})` : ''}, ` +
    `worker${f.workers.length > 1 ? 's' : ''} ${f.workers.join(', ')}, worker threads busy (running or waiting to run) ` +
    `${c2(f.cores)} cores for ${f.seconds.toFixed(0)} s from ${s1(f.runAt)} s`,
  disclosureHead: 'Consent element:',
  noElement: 'Consent element: none found (no button named Accept/同意).',
  element: (d) => `Consent element: found ${d.where === 'iframe' ? `in a frame (${d.frameUrl})` : 'in the page'}` +
    `${d.inShadow ? ', in a shadow root' : ''}; Accept ${box(d.accept)}, Decline ${d.decline ? box(d.decline) : 'missing'}.`,
  disclosureOk: 'Accept and Decline are both visible, of comparable size and not covered.',
  problem: {
    missing: (p) => `${cap(p.control)} is missing: no button named Decline/同意しない beside Accept.`,
    'display-none': (p) => `${cap(p.control)} is not shown: display is none on ${p.by}${p.frame ? ' (the frame around it)' : ''}.`,
    visibility: (p) => `${cap(p.control)} is invisible: visibility is ${p.value}.`,
    transparent: (p) => `${cap(p.control)} is nearly transparent: opacity ${p.value}${p.frame ? ' (with its frame)' : ''}.`,
    offscreen: (p) => `${cap(p.control)} is outside the page's viewport even when scrolled to.`,
    covered: (p) => `${cap(p.control)} is covered: at its centre the visitor would click ${p.by}${p.frame ? ' (over the frame)' : ''}.`,
    'too-small': (p) => `${cap(p.control)} is ${p.width}×${p.height} px, under ${p.min}×${p.min} px.`,
    smaller: (p) => `${cap(p.control)} is much smaller than the other answer (${Math.round(p.ratio * 100)}% of its area).`,
  },
  declineHead: 'Decline:',
  declined: (d) => `Decline clicked at ${s1(d.at)} s, page reloaded; ${d.remembered ? 'the decline was remembered.' : 'the element asked again (the decline was not remembered).'}`,
  declineFailed: (d) => `Decline could not be clicked as a visitor would: ${d.error}`,
  noDecline: 'Decline: not tried (no consent element).',
  noDeclineButton: 'Decline: not tried (there is no Decline button).',
  cpuHead: 'CPU of the browser, in cores (all processes / worker threads / page main threads), by phase:',
  cpuRow: (p, ph) => `  ${ph.padEnd(16)} ${c2(p.total)} / ${c2(p.workers)} / ${c2(p.main)}   (peak ${c2(p.peak)})`,
  heavy: (p, ph) => `Heavy CPU ${ph}: ${c2(p.total)} cores (worker threads running or waiting to run: ${c2(p.workerDemand)}), ` +
    'without mining evidence: reported as CPU, not as mining.',
  seen: (r) => `Before consent the page made ${r.seen.requestCount} requests, started ${r.seen.workers.length} worker(s), ` +
    `compiled ${r.seen.wasm.length} WebAssembly module(s) and opened ${r.seen.websockets.length} WebSocket(s) ` +
    `(${r.seen.websockets.reduce((n, w) => n + w.framesSent, 0)} messages sent).`,
  workersSeen: (list) => `Workers: ${list}`,
  wsSeen: (list) => `WebSockets: ${list}`,
  acceptHead: 'After Accept:',
  promised: (p) => `The disclosure promised ${p.threads} of ${p.cores} threads at about ${p.throttle}% each.`,
  noPromise: 'The disclosure states no load (threads and percent) that could be checked.',
  started: (a) => `Mining started ${s1(a.startedAt - a.clickedAt)} s after the click (${a.workers} worker(s), ${a.wasm} WebAssembly compile(s), ${a.stratum} stratum request(s)).`,
  measured: (a) => `Measured over ${a.window.toFixed(1)} s: the worker threads ran ${c2(a.measuredCores)} cores = ${a.measuredPerThread.toFixed(0)}% per promised thread ` +
    `(ran or waited to run: ${a.demandPerThread.toFixed(0)}%); the element showed ${Number.isFinite(a.shownPerThread) ? a.shownPerThread.toFixed(0) + '%' : 'no figure'}; whole browser ${c2(a.browserCores)} cores.`,
  stopOk: (a) => `Stop: the worker threads used ${a.stop.ticks * 10} ms of CPU between 100 and 700 ms after the click: idle within 100 ms.`,
  acceptProblem: {
    'no-element': () => 'After forgetting the stored choice and reloading, no Accept button was found.',
    'accept-click': (p) => `Accept could not be clicked: ${p.message}`,
    'not-started': (p) => `Mining did not start within ${p.seconds} s of Accept (no busy worker threads).`,
    'no-promise': () => 'The disclosure does not state the load it will cause.',
    'over-promise': (p) => `Measured ${p.perThread.toFixed(0)}% per thread, above the promised ${p.throttle}% (+${p.tolerance} points allowed).`,
    'too-many-threads': (p) => `${p.busy} worker threads were busy, more than the promised ${p.threads}.`,
    'figure-mismatch': (p) => `The element showed ${p.shown.toFixed(0)}% per thread, but ${p.measured.toFixed(0)}% was measured (±${p.tolerance} points allowed).`,
    'no-figure': () => 'The element showed no CPU figure while mining.',
    'no-stop': () => 'No Stop button was found while mining.',
    'stop-slow': (p) => `After Stop, the worker threads used ${p.ticks * 10} ms of CPU between 100 and 700 ms, and went idle only about ${p.idleAfter} ms after the click (the rule is 100 ms).`,
  },
  screenshot: (f) => `Screenshot of the disclosure as seen: ${f}`,
  exit: (c) => `Exit status ${c}.`,
};

export const ja = {
  title: (url) => `consentminer audit: ${url}`,
  how: (r) => `${r.browser} で初めての訪問者として、クリックせずに各段階 ${r.seconds} 秒ずつ観察しました：` +
    '読み込み時、スクロール後、タブを隠している間、再表示後、「同意しない」を記憶させた後' + (r.accept ? '、そして同意後。' : '。'),
  phase: { load: '読み込み時', scroll: 'スクロール後', hidden: 'タブ非表示中', shown: 'タブ再表示後', declined: '「同意しない」の後',
    accept: '同意後', start: '開始時' },
  pass: '合格：訪問者が同意する前には何もマイニングしていません。',
  fail: '不合格：理由は以下のとおりです。',
  error: (m) => `監査できませんでした：${m}`,
  miningHead: '同意前のマイニング：',
  noMining: '同意前のマイニング：なし（どの通信経路にも stratum の要求はなく、WebAssembly・ワーカー・継続的なワーカー CPU の組み合わせもありません）。',
  stratum: (f, ph) => `${s1(f.at)} 秒（${ph}）：stratum の「${f.method}」が ${f.transport} ${f.url} に送信されました（送信元 ${f.initiator}）` +
    (f.count > 1 ? `、${s1(f.lastAt)} 秒までに ${f.count} 回` : ''),
  wasmPattern: (f, ph) => `${s1(f.at)} 秒（${ph}）：${f.wasmContext} で WebAssembly がコンパイルされ` +
    `${f.wasmInitiator !== f.wasmContext ? `（${f.wasmInitiator} による）` : ''}、` +
    `ワーカー ${f.workers.join(', ')} が動き、ワーカースレッドが ${s1(f.runAt)} 秒から ${f.seconds.toFixed(0)} 秒間 ` +
    `${c2(f.cores)} コア分（実行または実行待ち）動き続けました`,
  disclosureHead: '同意の要素：',
  noElement: '同意の要素：見つかりません（Accept／同意 という名前のボタンがありません）。',
  element: (d) => `同意の要素：${d.where === 'iframe' ? `フレーム内（${d.frameUrl}）` : 'ページ内'}` +
    `${d.inShadow ? '、シャドウルート内' : ''}に見つかりました。同意 ${box(d.accept)}、同意しない ${d.decline ? box(d.decline) : 'なし'}。`,
  disclosureOk: '「同意」と「同意しない」はどちらも見えており、大きさも同程度で、何にも覆われていません。',
  problem: {
    missing: () => '「同意しない」がありません：同意ボタンの横に Decline／同意しない という名前のボタンがありません。',
    'display-none': (p) => `${jaControl(p)}が表示されていません：${p.by} の display が none です${p.frame ? '（それを囲むフレーム）' : ''}。`,
    visibility: (p) => `${jaControl(p)}が見えません：visibility が ${p.value} です。`,
    transparent: (p) => `${jaControl(p)}がほぼ透明です：不透明度 ${p.value}${p.frame ? '（フレームを含む）' : ''}。`,
    offscreen: (p) => `${jaControl(p)}はスクロールしても画面の外にあります。`,
    covered: (p) => `${jaControl(p)}が覆われています：その中央をクリックすると ${p.by} に当たります${p.frame ? '（フレームの上）' : ''}。`,
    'too-small': (p) => `${jaControl(p)}は ${p.width}×${p.height} px で、${p.min}×${p.min} px より小さいです。`,
    smaller: (p) => `${jaControl(p)}がもう一方の答えよりかなり小さいです（面積の ${Math.round(p.ratio * 100)}%）。`,
  },
  declineHead: '同意しない：',
  declined: (d) => `${s1(d.at)} 秒に「同意しない」をクリックし、ページを再読み込みしました。${d.remembered ? '選択は記憶されていました。' : '要素は再び尋ねました（選択が記憶されていません）。'}`,
  declineFailed: (d) => `訪問者と同じように「同意しない」をクリックできませんでした：${d.error}`,
  noDecline: '同意しない：試していません（同意の要素がありません）。',
  noDeclineButton: '同意しない：試していません（「同意しない」ボタンがありません）。',
  cpuHead: 'ブラウザーの CPU（コア数：全プロセス／ワーカースレッド／ページのメインスレッド）、段階ごと：',
  cpuRow: (p, ph) => `  ${ph.padEnd(9, '　')} ${c2(p.total)} / ${c2(p.workers)} / ${c2(p.main)}   （最大 ${c2(p.peak)}）`,
  heavy: (p, ph) => `${ph}の CPU 使用が多い：${c2(p.total)} コア（ワーカースレッドの実行または実行待ち：${c2(p.workerDemand)}）。` +
    'マイニングの証拠はないので、マイニングではなく CPU 使用として報告します。',
  seen: (r) => `同意前に、ページは ${r.seen.requestCount} 件のリクエストを送り、ワーカーを ${r.seen.workers.length} 個起動し、` +
    `WebAssembly を ${r.seen.wasm.length} 回コンパイルし、WebSocket を ${r.seen.websockets.length} 本開きました` +
    `（送信メッセージ ${r.seen.websockets.reduce((n, w) => n + w.framesSent, 0)} 件）。`,
  workersSeen: (list) => `ワーカー：${list}`,
  wsSeen: (list) => `WebSocket：${list}`,
  acceptHead: '同意後：',
  promised: (p) => `説明では ${p.cores} スレッドのうち ${p.threads} スレッドを、それぞれ約 ${p.throttle}% 使うと約束していました。`,
  noPromise: '説明には、確認できる負荷（スレッド数と割合）が書かれていません。',
  started: (a) => `クリックの ${s1(a.startedAt - a.clickedAt)} 秒後にマイニングが始まりました（ワーカー ${a.workers} 個、WebAssembly コンパイル ${a.wasm} 回、stratum 要求 ${a.stratum} 件）。`,
  measured: (a) => `${a.window.toFixed(1)} 秒間の実測：ワーカースレッドの実行 ${c2(a.measuredCores)} コア＝約束したスレッドあたり ${a.measuredPerThread.toFixed(0)}%` +
    `（実行または実行待ち：${a.demandPerThread.toFixed(0)}%）。` +
    `要素の表示は ${Number.isFinite(a.shownPerThread) ? a.shownPerThread.toFixed(0) + '%' : 'なし'}。ブラウザー全体 ${c2(a.browserCores)} コア。`,
  stopOk: (a) => `停止：クリック後 100〜700 ms にワーカースレッドが使った CPU は ${a.stop.ticks * 10} ms で、100 ms 以内に止まりました。`,
  acceptProblem: {
    'no-element': () => '記憶された選択を消して再読み込みした後、同意ボタンが見つかりませんでした。',
    'accept-click': (p) => `同意ボタンをクリックできませんでした：${p.message}`,
    'not-started': (p) => `同意から ${p.seconds} 秒以内にマイニングが始まりませんでした（忙しいワーカースレッドがありません）。`,
    'no-promise': () => '説明に、どれだけの負荷をかけるかが書かれていません。',
    'over-promise': (p) => `実測はスレッドあたり ${p.perThread.toFixed(0)}% で、約束の ${p.throttle}%（許容 +${p.tolerance} ポイント）を超えています。`,
    'too-many-threads': (p) => `${p.busy} 本のワーカースレッドが動いており、約束の ${p.threads} 本より多いです。`,
    'figure-mismatch': (p) => `要素の表示はスレッドあたり ${p.shown.toFixed(0)}% でしたが、実測は ${p.measured.toFixed(0)}% でした（許容 ±${p.tolerance} ポイント）。`,
    'no-figure': () => 'マイニング中に要素が CPU 使用率を表示していません。',
    'no-stop': () => 'マイニング中に停止ボタンが見つかりませんでした。',
    'stop-slow': (p) => `停止後 100〜700 ms にワーカースレッドが ${p.ticks * 10} ms の CPU を使い、止まったのはクリックの約 ${p.idleAfter} ms 後でした（規則は 100 ms）。`,
  },
  screenshot: (f) => `訪問者が見た説明のスクリーンショット：${f}`,
  exit: (c) => `終了コード ${c}。`,
};

const cap = (w) => w[0].toUpperCase() + w.slice(1);
function box(c) { return `${c.box.width}×${c.box.height} px “${c.label}”`; }
function jaControl(p) { return p.control === 'accept' ? '「同意」' : '「同意しない」'; }

export const languages = { en, ja };
