// The admin dashboard's entry: styles (uPlot's, bundled locally), the shell and every page.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import './parts/time-chart.js';
import './pages/overview-page.js';
import './pages/tunnels-page.js';
import './pages/sessions-page.js';
import './pages/users-page.js';
import './pages/approvals-page.js';
import './pages/audit-page.js';
import './pages/analytics-page.js';
import './pages/rate-limits-page.js';
import './app-shell.js';
