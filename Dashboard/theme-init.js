// Runs before the first paint (a classic script in <head>): the stored theme and language are applied before
// anything is drawn, so a dark page never flashes light.
(function () {
  var root = document.documentElement;
  var theme = null, lang = null;
  try { theme = localStorage.getItem('agg.theme'); lang = localStorage.getItem('agg.lang'); } catch (e) { /* storage off */ }
  root.setAttribute('data-theme', theme === 'light' || theme === 'dark' ? theme : 'system');
  if (lang === 'en' || lang === 'ru') root.setAttribute('lang', lang);
})();
