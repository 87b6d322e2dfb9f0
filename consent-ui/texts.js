// Every word <consent-miner> shows, one table per language. The element holds no text of
// its own, so adding a language is adding one table here (and its name to `languages`).
// {name} placeholders are filled by the element with textContent, never as HTML.
//
// The disclosure follows docs/design.md consent rule 3: it says that Monero is mined with this
// device's processor, who gets the reward, the expected load and threads, how to stop, and
// how long the choice is remembered. Plain words first; "Monero" is named because a visitor
// must be able to look it up.

export const en = {
  askTitle: 'Support {site} by mining Monero?',
  askWhat:
    'If you accept, this page will use the processor (CPU) of this device to mine the ' +
    'cryptocurrency Monero. The reward goes to {site}, not to you.',
  askLoad:
    'Expected load: {threads} of the {cores} processor threads of this device, each ' +
    'busy about {throttle}% of the time (about {total}% of the whole processor). The ' +
    'device may get warmer and its battery may run down faster.',
  askStop:
    'You can stop at any time with the Stop button that will appear here. Mining pauses ' +
    'while {pauses}.',
  // Only the pauses this browser can do are promised (battery: Battery Status API;
  // busy: Compute Pressure API; neither exists in Firefox or Safari).
  pause_hidden: 'this tab is hidden',
  pause_battery: 'the device runs on battery',
  pause_pressure: 'the device is busy',
  list: (items) => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')}${items.length > 2 ? ',' : ''} or ${items[items.length - 1]}`),
  askRemember: 'Your choice is remembered on this device for {duration}; then we ask again.',
  askNothingYet: 'Nothing is downloaded or run until you choose.',
  accept: 'Accept: start mining for {site}',
  decline: 'Decline',
  withdrawnNote: 'You withdrew your consent. Mining has stopped.',
  expiredNote: 'Your consent has expired, so we ask again.',
  notVisibleNote: 'That click did not count: this notice must be fully visible, uncovered, for a moment before you choose.',
  declined: 'You chose not to mine for {site}. This choice is remembered for {duration}.',
  revoked: 'You withdrew consent to mine for {site}. Nothing runs.',
  review: 'Change my choice',
  panelTitle: 'Mining Monero for {site}',
  loading: 'Starting: loading the miner…',
  waiting: 'Waiting: mining already runs in another tab of this site.',
  preparing: 'Preparing: building the RandomX data in memory (a few seconds)…',
  reconnecting: 'Reconnecting: the site\'s mining server went away; nothing is hashed until it is back.',
  running: 'Mining. You can stop at any time.',
  stopped: 'Stopped. Nothing is running.',
  pausedBecause: 'Paused: {reasons}.',
  reason_hidden: 'this tab is hidden',
  reason_battery: 'the device is on battery',
  reason_pressure: 'the processor is under heavy load',
  reason_pressure_check: 'checking whether another program keeps the processor busy',
  reasonJoin: ', ',
  cpuLabel: 'Mining threads busy (measured)',
  cpuValue: '{pct}% per thread',
  pausedFigure: '0 (paused)',
  cpuNote: 'This is the share of time each mining thread spends hashing, measured by the clock in the ' +
    'thread. It is not the processor time the system gives it: when other programs are busy too, a ' +
    'thread waiting for the processor still counts, so this figure is then higher than the real use. ' +
    'Beside the threads, the browser recompiles the miner\'s code in the background, which can use up ' +
    'to about half a core more (measured in Chromium).',
  hashrateLabel: 'Hash rate',
  hashrateValue: '{rate} H/s',
  sharesLabel: 'Shares accepted',
  throttleLabel: 'CPU limit per thread',
  threadsLabel: 'Threads',
  stop: 'Stop mining',
  startAgain: 'Start mining again',
  revoke: 'Withdraw consent',
  until: 'Consent remembered until {date}.',
  error: 'Error: {message}',
  warning: '(Note: {message})',
  duration: (ms) => {
    const h = Math.round(ms / 3600e3);
    if (ms < 3600e3) { const m = Math.max(1, Math.round(ms / 60e3)); return m === 1 ? '1 minute' : `${m} minutes`; }
    if (h < 48 || h % 24) return h === 1 ? '1 hour' : `${h} hours`;
    return `${h / 24} days`;
  },
};

export const ja = {
  askTitle: 'Monero のマイニングで {site} を支援しますか？',
  askWhat:
    '同意すると、このページはこの端末のプロセッサ（CPU）を使って暗号資産 Monero（モネロ）を' +
    'マイニング（採掘）します。報酬を受け取るのはあなたではなく {site} です。',
  askLoad:
    '予想される負荷：この端末の {cores} スレッドのうち {threads} スレッドを、それぞれ約 ' +
    '{throttle}% の時間使います（プロセッサ全体の約 {total}%）。端末が熱くなったり、' +
    'バッテリーの減りが早くなったりすることがあります。',
  askStop:
    'ここに表示される「停止」ボタンで、いつでも止められます。{pauses}ときは一時停止します。',
  pause_hidden: 'このタブが表示されていない',
  pause_battery: 'バッテリーで動いている',
  pause_pressure: '端末の負荷が高い',
  list: (items) => items.map((x, i) => (i < items.length - 1 ? `${x}とき、` : x)).join(''),
  askRemember: 'この選択はこの端末に{duration}記憶され、その後あらためて確認します。',
  askNothingYet: '選ぶまでは、何もダウンロード・実行されません。',
  accept: '同意して {site} のためにマイニングを開始',
  decline: '同意しない',
  withdrawnNote: '同意を取り消しました。マイニングは止まっています。',
  expiredNote: '同意の有効期限が切れたため、あらためて確認します。',
  notVisibleNote: 'いまのクリックは無効です。この案内全体が隠れずに表示された状態で、少し待ってから選んでください。',
  declined: '{site} のためのマイニングに同意しませんでした。この選択は{duration}記憶されます。',
  revoked: '{site} のためのマイニングへの同意を取り消しました。何も動いていません。',
  review: '選択を変更する',
  panelTitle: '{site} のために Monero をマイニング中',
  loading: '開始中：マイナーを読み込んでいます…',
  waiting: '待機中：このサイトの別のタブでマイニングが動いています。',
  preparing: '準備中：RandomX のデータをメモリ上に作成しています（数秒かかります）…',
  reconnecting: '再接続中：サイトのマイニングサーバーとの接続が切れました。戻るまで計算は行いません。',
  running: 'マイニング中です。いつでも停止できます。',
  stopped: '停止しました。何も動いていません。',
  pausedBecause: '一時停止中：{reasons}。',
  reason_hidden: 'このタブが表示されていません',
  reason_battery: 'バッテリーで動作しています',
  reason_pressure: 'プロセッサの負荷が高くなっています',
  reason_pressure_check: '他のプログラムがプロセッサを使っているか確認しています',
  reasonJoin: '、',
  cpuLabel: 'マイニング スレッドの稼働率（実測）',
  cpuValue: '1 スレッドあたり {pct}%',
  pausedFigure: '0（一時停止中）',
  cpuNote: '各マイニング スレッドがハッシュ計算に費やした時間の割合を、スレッド内の時計で測った値です。' +
    'システムが実際に割り当てたプロセッサ時間ではありません。ほかのプログラムも忙しいときは、プロセッサを' +
    '待っている時間も含まれるため、実際より高く表示されます。このほかにブラウザーがマイナーのコードを' +
    '裏で再コンパイルするため、さらに最大で約 0.5 コア分を使うことがあります（Chromium で実測）。',
  hashrateLabel: 'ハッシュレート',
  hashrateValue: '{rate} H/s',
  sharesLabel: '承認されたシェア',
  throttleLabel: '1 スレッドあたりの CPU 上限',
  threadsLabel: 'スレッド数',
  stop: 'マイニングを停止',
  startAgain: 'マイニングを再開',
  revoke: '同意を取り消す',
  until: '同意は {date} まで記憶されます。',
  error: 'エラー：{message}',
  warning: '（注意：{message}）',
  duration: (ms) => {
    const h = Math.round(ms / 3600e3);
    if (ms < 3600e3) return `${Math.max(1, Math.round(ms / 60e3))}分間`;
    if (h < 48 || h % 24) return `${h}時間`;
    return `${h / 24}日間`;
  },
};

export const languages = { en, ja };
