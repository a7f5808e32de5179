import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { createApi } from './lib/api-client';
import { AppState } from './lib/app-state.svelte';

const app = new AppState(createApi());
mount(App, { target: document.getElementById('app')!, props: { app } });
