import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './App';
import { warmUpLayout } from './components/useElkLayout';
import { boxCssVariables } from './model/layout';

for (const [name, value] of Object.entries(boxCssVariables())) document.documentElement.style.setProperty(name, value);
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
void warmUpLayout();
