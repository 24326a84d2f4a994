// The waiting-room display (/antrean/tampil): a clock, and a chime with the call spoken in
// Bahasa Indonesia (speechSynthesis, lang id-ID) whenever the called number changes.
// The page draws the current call into #antrean-call (data-ready, data-call-id,
// data-speech); this script watches it. The call shown when the page becomes ready is not
// announced again, so reloading the TV says nothing. Every announced text is kept in
// window.klinikitaQueueDisplay.spoken and in <body data-spoken>, so it can be checked
// where nothing can be heard (browser tests).
(function () {
  if (window.klinikitaQueueDisplay) return;
  var display = { spoken: [], soundOn: false };
  window.klinikitaQueueDisplay = display;
  var baseline = null;
  var chime = null;

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // HH:MM:SS in the clinic's zone (the TV's own clock may be set to another one).
  function clinicTime(zone) {
    var now = new Date();
    if (zone) {
      try {
        var parts = new Intl.DateTimeFormat("en-GB", {
          timeZone: zone,
          hour: "2-digit",
          minute: "2-digit",
          second: "2-digit",
          hourCycle: "h23",
        }).format(now);
        return parts.replace(/\./g, ":");
      } catch (e) {
        /* an unknown zone: the TV's own time */
      }
    }
    return pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
  }

  function indonesianVoice() {
    if (!("speechSynthesis" in window)) return null;
    var voices = window.speechSynthesis.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      var lang = (voices[i].lang || "").toLowerCase().replace("_", "-");
      if (lang === "id-id" || lang.indexOf("id") === 0) return voices[i];
    }
    return null;
  }

  function speak(text) {
    if (!text || !("speechSynthesis" in window)) return;
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "id-ID";
    utterance.rate = 0.9;
    var voice = indonesianVoice();
    if (voice) utterance.voice = voice;
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
  }

  function playChime() {
    try {
      chime = chime || new Audio("/chime.wav");
      chime.currentTime = 0;
      var played = chime.play();
      if (played && played.catch) played.catch(function () {});
    } catch (e) {
      /* no sound on this device: the call is still shown */
    }
  }

  display.announce = function (text) {
    display.spoken.push(text);
    document.body.setAttribute("data-spoken", text);
    document.body.setAttribute("data-spoken-count", String(display.spoken.length));
    playChime();
    setTimeout(function () {
      speak(text);
    }, 1300);
  };

  // Browsers let a page play sound only after a click on it: the TV's "Aktifkan suara".
  display.enableSound = function () {
    display.soundOn = true;
    playChime();
    speak("Suara layar antrean aktif");
    var button = document.getElementById("antrean-sound");
    if (button) button.style.display = "none";
  };

  function tick() {
    var clock = document.getElementById("antrean-clock");
    if (clock) clock.textContent = clinicTime(clock.getAttribute("data-timezone"));
    var call = document.getElementById("antrean-call");
    if (!call || call.getAttribute("data-ready") !== "1") return;
    var id = call.getAttribute("data-call-id") || "";
    if (baseline === null) {
      baseline = id;
      return;
    }
    if (id && id !== baseline) {
      baseline = id;
      display.announce(call.getAttribute("data-speech") || "");
    }
  }

  setInterval(tick, 250);
})();
