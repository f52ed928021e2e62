//! UARTs for console output. Transmission is instantaneous: the transmit register is always
//! empty again by the next access (approximation: a real UART at 115200 baud takes about
//! 87 us per byte, which firmware that polls would spend waiting).

use super::{Context, Device};

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

impl CmsdkUart {
    fn irq_level(&self) -> bool {
        self.int_status & CMSDK_TX_INT != 0 && self.ctrl & CMSDK_TX_INT_EN != 0
    }
}

impl Device for CmsdkUart {
    fn read(&mut self, offset: u32, _size: usize, _cx: &mut Context<'_>) -> u32 {
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

    fn write(&mut self, offset: u32, _size: usize, value: u32, cx: &mut Context<'_>) {
        match offset {
            0x000 if self.ctrl & CMSDK_TX_EN != 0 => {
                cx.console(&[value as u8]);
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
        cx.set_irq(self.irq_level());
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

    fn irq_level(&self) -> bool {
        self.cr1 & CR1_UE != 0 && self.cr1 & (CR1_TXEIE | CR1_TCIE) != 0
    }
}

impl Device for Stm32Usart {
    fn read(&mut self, offset: u32, _size: usize, _cx: &mut Context<'_>) -> u32 {
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

    fn write(&mut self, offset: u32, _size: usize, value: u32, cx: &mut Context<'_>) {
        match offset {
            0x00 => self.cr1 = value,
            0x04 => self.cr2 = value,
            0x08 => self.cr3 = value,
            0x0C => self.brr = value & 0xFFFF,
            0x28 if self.enabled() => cx.console(&[value as u8]),
            _ => {}
        }
        cx.set_irq(self.irq_level());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::testing::Bench;

    #[test]
    fn cmsdk_uart_transmits_only_when_enabled_and_latches_its_tx_interrupt() {
        let (mut uart, mut b) = (CmsdkUart::default(), Bench::default());
        b.write(&mut uart, 0x0, u32::from(b'x'), 0);
        assert!(b.out.is_empty(), "TX disabled");
        b.write(&mut uart, 0x8, CMSDK_TX_EN | CMSDK_TX_INT_EN, 0);
        b.write(&mut uart, 0x0, u32::from(b'y'), 0);
        assert_eq!(b.out, b"y");
        assert!(b.lines[0].level);
        b.write(&mut uart, 0xC, 1, 0);
        assert!(!b.lines[0].level);
    }

    #[test]
    fn stm32_usart_needs_ue_and_te() {
        let (mut uart, mut b) = (Stm32Usart::default(), Bench::default());
        b.write(&mut uart, 0x28, u32::from(b'a'), 0);
        b.write(&mut uart, 0x00, CR1_UE | CR1_TE, 0);
        b.write(&mut uart, 0x28, u32::from(b'b'), 0);
        assert_eq!(b.out, b"b");
        assert_eq!(
            b.read(&mut uart, 0x1C, 0) & (ISR_TXE | ISR_TEACK),
            ISR_TXE | ISR_TEACK
        );
        assert!(!b.lines[0].level);
        b.write(&mut uart, 0x00, CR1_UE | CR1_TE | CR1_TXEIE, 0);
        assert!(b.lines[0].level);
    }
}
