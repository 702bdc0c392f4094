import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { selectTransport } from './lib/transport';

const app = mount(App, {
  target: document.getElementById('app')!,
  props: { transport: selectTransport(window) },
});

export default app;
