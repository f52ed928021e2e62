//! UARTs for console output. Transmission is instantaneous: the transmit register is always
//! empty again by the next access (approximation: a real UART at 115200 baud takes about
//! 87 us per byte, which firmware that polls would spend waiting).

use super::Peripheral;
use mcusim_traces::Cycles;

/// Arm CMSDK APB UART (Cortex-M System Design Kit TRM, DDI 0479C, 4.2), as on the MPS2 boards
/// and in QEMU's `cmsdk-apb-uart`.
#[derive(Debug, Default)]
pub struct CmsdkUart {
    ctrl: u32,
    int_status: u32,
    bauddiv: u32,
}

const CMSDK_TX_EN: u32 = 1;
const CMSDK_TX_INT_EN: u32 = 1 << 2;
const CMSDK_TX_INT: u32 = 1;

impl Peripheral for CmsdkUart {
    fn read(&mut self, offset: u32, _size: usize, _now: Cycles) -> u32 {
        match offset {
            // DATA: nothing is ever received.
            0x000 => 0,
            // STATE: TX buffer never full, RX buffer never full.
            0x004 => 0,
            0x008 => self.ctrl,
            0x00C => self.int_status,
            0x010 => self.bauddiv,
            _ => 0,
        }
    }

    fn write(
        &mut self,
        offset: u32,
        _size: usize,
        value: u32,
        _now: Cycles,
        console: &mut Vec<u8>,
    ) {
        match offset {
            0x000 if self.ctrl & CMSDK_TX_EN != 0 => {
                console.push(value as u8);
                if self.ctrl & CMSDK_TX_INT_EN != 0 {
                    self.int_status |= CMSDK_TX_INT;
                }
            }
            0x008 => self.ctrl = value & 0x7F,
            // INTCLEAR: write one to clear.
            0x00C => self.int_status &= !value,
            0x010 => self.bauddiv = value & 0x000F_FFFF,
            _ => {}
        }
    }

    fn irq_level(&self) -> bool {
        self.int_status & CMSDK_TX_INT != 0 && self.ctrl & CMSDK_TX_INT_EN != 0
    }
}

/// STM32 USART/LPUART with the register layout shared by the L4, L4+, G0, F7 and U5 parts
/// (RM0432 sec. 50.8 and 51.7; CR1 at 0x00, ISR at 0x1C, ICR at 0x20, TDR at 0x28).
#[derive(Debug, Default)]
pub struct Stm32Usart {
    cr1: u32,
    cr2: u32,
    cr3: u32,
    brr: u32,
}

const CR1_UE: u32 = 1;
const CR1_TE: u32 = 1 << 3;
const CR1_TCIE: u32 = 1 << 6;
const CR1_TXEIE: u32 = 1 << 7;
const ISR_TC: u32 = 1 << 6;
const ISR_TXE: u32 = 1 << 7;
const ISR_TEACK: u32 = 1 << 21;

impl Stm32Usart {
    fn enabled(&self) -> bool {
        self.cr1 & (CR1_UE | CR1_TE) == CR1_UE | CR1_TE
    }
}

impl Peripheral for Stm32Usart {
    fn read(&mut self, offset: u32, _size: usize, _now: Cycles) -> u32 {
        match offset {
            0x00 => self.cr1,
            0x04 => self.cr2,
            0x08 => self.cr3,
            0x0C => self.brr,
            // ISR: transmit register empty and transmission complete, always.
            0x1C => ISR_TXE | ISR_TC | if self.enabled() { ISR_TEACK } else { 0 },
            _ => 0,
        }
    }

    fn write(
        &mut self,
        offset: u32,
        _size: usize,
        value: u32,
        _now: Cycles,
        console: &mut Vec<u8>,
    ) {
        match offset {
            0x00 => self.cr1 = value,
            0x04 => self.cr2 = value,
            0x08 => self.cr3 = value,
            0x0C => self.brr = value & 0xFFFF,
            0x28 if self.enabled() => console.push(value as u8),
            _ => {}
        }
    }

    fn irq_level(&self) -> bool {
        self.cr1 & CR1_UE != 0 && self.cr1 & (CR1_TXEIE | CR1_TCIE) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmsdk_uart_transmits_only_when_enabled_and_latches_its_tx_interrupt() {
        let mut uart = CmsdkUart::default();
        let mut out = Vec::new();
        uart.write(0x0, 4, u32::from(b'x'), Cycles(0), &mut out);
        assert!(out.is_empty(), "TX disabled");
        uart.write(0x8, 4, CMSDK_TX_EN | CMSDK_TX_INT_EN, Cycles(0), &mut out);
        uart.write(0x0, 4, u32::from(b'y'), Cycles(0), &mut out);
        assert_eq!(out, b"y");
        assert!(uart.irq_level());
        uart.write(0xC, 4, 1, Cycles(0), &mut out);
        assert!(!uart.irq_level());
    }

    #[test]
    fn stm32_usart_needs_ue_and_te() {
        let mut uart = Stm32Usart::default();
        let mut out = Vec::new();
        uart.write(0x28, 4, u32::from(b'a'), Cycles(0), &mut out);
        uart.write(0x00, 4, CR1_UE | CR1_TE, Cycles(0), &mut out);
        uart.write(0x28, 4, u32::from(b'b'), Cycles(0), &mut out);
        assert_eq!(out, b"b");
        assert_eq!(
            uart.read(0x1C, 4, Cycles(0)) & (ISR_TXE | ISR_TEACK),
            ISR_TXE | ISR_TEACK
        );
        assert!(!uart.irq_level());
        uart.write(0x00, 4, CR1_UE | CR1_TE | CR1_TXEIE, Cycles(0), &mut out);
        assert!(uart.irq_level());
    }
}
