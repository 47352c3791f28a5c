/* The audible alarm (plan 3.1.1): a new incident or a level rise sounds on every
 * open dashboard and repeats until someone at that screen silences it.
 *
 * Browsers only play sound after a person has interacted with the page, so the
 * screen shows "click to arm" until someone does. The state is exposed as
 * window.fenghuoAlarm so tests can see it fire without hearing it.
 * The tones are synthesised (Web Audio API): no sound files to ship.
 */
(function () {
  "use strict";
  var STORAGE_KEY = "fenghuo.alarm.silencedThrough";
  var REPEAT_MS = 5000;
  var RED_RANK = 1;

  var state = window.fenghuoAlarm = {
    armed: false, ringing: false, lastLevel: "", lastRank: 0, lastKey: 0,
    silencedThrough: null, sounded: 0, audioError: ""
  };
  var audio = null, repeatTimer = null;

  function $(id) { return document.getElementById(id); }

  function readSilenced() {
    try { return parseInt(window.localStorage.getItem(STORAGE_KEY) || "", 10) || null; } catch (e) { return null; }
  }
  function writeSilenced(key) {
    try { window.localStorage.setItem(STORAGE_KEY, String(key)); } catch (e) { /* private mode: this page only */ }
  }

  function tone(freq, start, duration, type, volume) {
    var osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = type; osc.frequency.setValueAtTime(freq, start);
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(volume, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + duration);
    osc.connect(gain); gain.connect(audio.destination);
    osc.start(start); osc.stop(start + duration + 0.05);
  }

  function sound() {
    if (!state.armed || !audio) return;
    var t = audio.currentTime + 0.05, i;
    if (state.lastDrill) {
      // A drill: a rising chime, nothing like the real alarms (DRILLS_ALARM = "distinct").
      for (i = 0; i < 4; i++) tone(440 + i * 110, t + i * 0.18, 0.16, "triangle", 0.2);
    } else if (state.lastRank === RED_RANK) {
      // Red: a two-tone siren, harsh and unmistakable.
      for (i = 0; i < 6; i++) tone(i % 2 ? 660 : 990, t + i * 0.25, 0.24, "square", 0.25);
    } else {
      // Other levels: three soft beeps.
      for (i = 0; i < 3; i++) tone(587, t + i * 0.35, 0.2, "sine", 0.3);
    }
    state.sounded += 1;
  }

  function render() {
    var controls = $("alarm-controls"), indicator = $("alarm-indicator"), arm = $("alarm-arm");
    var silence = $("alarm-silence"), banner = $("alarm-banner");
    if (!controls) return;
    indicator.textContent = state.armed ? controls.dataset.tArmed : controls.dataset.tUnarmed;
    indicator.dataset.armed = String(state.armed);
    arm.hidden = state.armed;
    silence.hidden = !state.ringing;
    document.body.classList.toggle("alarm-ringing", state.ringing);
    document.body.classList.toggle("alarm-red", state.ringing && state.lastRank === RED_RANK);
    if (banner) {
      banner.hidden = !state.ringing;
      if (state.ringing) {
        var levelName = state.lastLevelName || state.lastLevel;
        banner.textContent = banner.dataset.tNew + ": " + levelName + (state.armed ? "" : " — " + banner.dataset.tUnarmedHint);
        banner.dataset.level = state.lastLevel;
      }
    }
  }

  function arm() {
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      audio = audio || new Context();
      if (audio.resume) audio.resume();
      state.armed = true;
    } catch (e) {
      state.audioError = String(e);
    }
    render();
    if (state.ringing) sound();
    var silence = $("alarm-silence");
    if (state.ringing && silence) silence.focus();
  }

  function ring(event) {
    state.lastLevel = event.level; state.lastRank = event.rank; state.lastLevelName = event.name;
    state.lastDrill = !!event.drill;
    if (!state.ringing) {
      state.ringing = true;
      repeatTimer = window.setInterval(sound, REPEAT_MS);
    }
    sound();
    render();
  }

  function silence() {
    state.ringing = false;
    if (repeatTimer) window.clearInterval(repeatTimer);
    repeatTimer = null;
    state.silencedThrough = Math.max(state.silencedThrough || 0, state.lastKey);
    writeSilenced(state.silencedThrough);
    render();
  }

  /* Called with the fragment element after every load: sound for openings and
   * level rises newer than what this screen last silenced. */
  function check(fragment) {
    if (!fragment) return;
    var key = parseInt(fragment.dataset.alarmKey || "0", 10) || 0;
    if (state.silencedThrough === null) {
      // First load: what is already open was seen when this screen last silenced,
      // or is simply there now; only what happens from here on sounds.
      var stored = readSilenced();
      // A stored mark beyond today's newest event belongs to another database (a reset): ignore it.
      state.silencedThrough = stored && stored <= key ? stored : key;
    }
    state.lastKey = Math.max(state.lastKey, key);
    var fresh = [], drillsSound = fragment.dataset.drillAlarm !== "none";
    fragment.querySelectorAll("[data-alarm-event]").forEach(function (li) {
      var id = parseInt(li.dataset.alarmEvent, 10), drill = li.dataset.drill === "1";
      if (id > state.silencedThrough && (drillsSound || !drill)) {
        fresh.push({ id: id, level: li.dataset.level, rank: parseInt(li.dataset.rank, 10), name: li.dataset.name,
                     drill: drill });
      }
    });
    if (!fresh.length) return;
    // A real incident always sounds before any drill, whatever the drill's level.
    fresh.sort(function (a, b) { return (a.drill - b.drill) || a.rank - b.rank || b.id - a.id; });
    var worst = fresh[0];
    if (!state.ringing || (state.lastDrill && !worst.drill) || worst.rank < state.lastRank || worst.id > state.ringingFor) {
      state.ringingFor = Math.max(state.ringingFor || 0, fresh.reduce(function (m, e) { return Math.max(m, e.id); }, 0));
      ring(worst);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var armButton = $("alarm-arm"), silenceButton = $("alarm-silence");
    if (armButton) armButton.addEventListener("click", arm);
    if (silenceButton) silenceButton.addEventListener("click", silence);
    render();
  });

  window.fenghuoAlarmCheck = check;
})();
